import { LocalLedger } from '../../../src/actors/hippocampus/ledger.js';
import { runLedgerCases } from './ledger.cases.js';

runLedgerCases('LocalLedger', (fixture) => new LocalLedger(fixture));
