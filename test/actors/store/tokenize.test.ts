import { describe, it, expect } from 'vitest';
import { MAX_TOKEN_LENGTH, stem, tokenize } from '../../../src/actors/store/tokenize.js';

describe('tokenize', () => {
  it('lowercases and splits on anything that is not a letter or digit', () => {
    expect(tokenize('Quick, BROWN fox! foo-bar_baz 42')).toEqual(['quick', 'brown', 'fox', 'foo', 'bar', 'baz', '42']);
  });

  it('keeps accented words whole', () => {
    expect(tokenize('Crème brûlée à Déjà')).toEqual(['crème', 'brûlée', 'à', 'déjà']);
  });

  it('folds compatibility and decomposed forms to one token (NFKC)', () => {
    expect(tokenize('cafe\u0301')).toEqual(tokenize('café'));
    expect(tokenize('ＡＢＣ')).toEqual(['abc']);
    expect(tokenize('ﾃｽﾄ')).toEqual(tokenize('テスト'));
  });

  it('stems English inflections to one token', () => {
    const [deploying] = tokenize('deploying');
    expect(tokenize('deployed')).toEqual([deploying]);
    expect(tokenize('deploys')).toEqual([deploying]);
    expect(tokenize('Running runs')).toEqual(['run', 'run']);
  });

  it('leaves words of other scripts unstemmed', () => {
    expect(tokenize('программы Ελληνικά')).toEqual(['программы', 'ελληνικά']);
  });

  it('turns a CJK run into its characters and character bigrams', () => {
    expect(tokenize('東京タワー')).toEqual(['東', '東京', '京', '京タ', 'タ', 'タワ', 'ワ', 'ワー', 'ー']);
    expect(tokenize('한국어')).toEqual(['한', '한국', '국', '국어', '어']);
    expect(tokenize('人')).toEqual(['人']);
  });

  it('separates CJK from other letters and drops CJK punctuation', () => {
    expect(tokenize('api呼び')).toEqual(['api', '呼', '呼び', 'び']);
    expect(tokenize('東京、大阪。')).toEqual(['東', '東京', '京', '大', '大阪', '阪']);
    expect(tokenize('2024年')).toEqual(['2024', '年']);
  });

  it(`drops words longer than ${MAX_TOKEN_LENGTH} characters, but not long CJK runs`, () => {
    const longest = 'x'.repeat(MAX_TOKEN_LENGTH);
    expect(tokenize(`${longest}y keep ${longest}`)).toEqual(['keep', longest]);
    expect(tokenize('漢'.repeat(50))).toHaveLength(99);
  });

  it('counts length in characters, not UTF-16 units', () => {
    const astral = '𐌰'.repeat(MAX_TOKEN_LENGTH); // Gothic ahsa: 2 UTF-16 units each
    expect(tokenize(astral)).toEqual([astral]);
  });

  it('drops English stopwords, keeping negations', () => {
    expect(tokenize('The cat and the hat is on the mat')).toEqual(['cat', 'hat', 'mat']);
    expect(tokenize('this is not that')).toEqual(['not']);
    expect(tokenize('to be or')).toEqual([]);
  });

  it('keeps repeats, since term frequency matters', () => {
    expect(tokenize('fox fox fox')).toEqual(['fox', 'fox', 'fox']);
  });
});

describe('stem', () => {
  it('Porter-stems Latin-script words', () => {
    expect(stem('ponies')).toBe('poni');
    expect(stem('deployed')).toBe(stem('deploying'));
  });

  it('returns other words unchanged', () => {
    expect(stem('東京')).toBe('東京');
    expect(stem('программы')).toBe('программы');
  });
});
