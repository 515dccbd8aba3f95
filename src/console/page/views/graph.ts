import cytoscape from 'cytoscape';
import type { ViewContext } from '../context.js';
import { graphHref, recordHref } from '../context.js';
import { field, h, replace } from '../dom.js';
import { ASSOCIATION_TYPES, fidelity, short, STORE_COLORS } from '../format.js';
import type { GraphResponse } from '../types.js';
import { errorText, storeBadge, table } from './common.js';

// The association graph (recall.graph, spec §3.10) around a record, or a sample of the space when no
// centre is given. Edges are coloured by type and drawn as thick as their weight; nodes by store and
// as large as their fidelity. The same nodes and edges are listed below for the keyboard.

const EDGE_COLORS: Record<string, string> = {
  temporal: '#718096',
  spatial: '#319795',
  semantic: '#2f6fdf',
  emotional: '#d53f8c',
  causal: '#c05621',
  sequential: '#805ad5',
  cross_modal: '#2a9d5c',
  user_defined: '#1a202c',
};

export function graphView({ api, params, notify, navigate }: ViewContext): HTMLElement {
  const center = h('input', { id: 'graph-center', value: params[0] ?? '', size: 38, spellcheck: 'false', autocomplete: 'off', placeholder: 'empty: a sample of the space' });
  const depth = h('input', { type: 'number', id: 'graph-depth', min: 0, max: 8, value: 2 });
  const limit = h('input', { type: 'number', id: 'graph-limit', min: 1, max: 1024, value: 50 });
  const typeBoxes = ASSOCIATION_TYPES.map((type) => h('input', { type: 'checkbox', value: type }));
  const canvas = h('div', { id: 'graph-canvas', class: 'graph', 'aria-hidden': 'true' });
  const lists = h('div', { id: 'graph-lists' });
  let cy: cytoscape.Core | undefined;

  async function load(): Promise<void> {
    const types = typeBoxes.filter((box) => box.checked).map((box) => box.value);
    replace(lists, h('progress', { 'aria-label': 'Loading the graph' }));
    let graph: GraphResponse;
    try {
      graph = await api.send<GraphResponse>('POST', '/v1/recall/graph', {
        center_id: center.value.trim() === '' ? null : center.value.trim(),
        depth: Number(depth.value) || 0,
        limit_nodes: Math.max(1, Number(limit.value) || 50),
        edge_types: types.length > 0 ? types : null,
      });
    } catch (error) {
      replace(lists);
      notify(errorText(error), 'error');
      return;
    }
    const ids = new Set(graph.nodes.map((node) => node.id));
    const edges = graph.edges.filter((edge) => ids.has(edge.source) && ids.has(edge.target));
    cy?.destroy();
    cy = cytoscape({
      container: canvas,
      elements: [
        ...graph.nodes.map((node) => ({
          data: { id: node.id, label: short(node.summary, 32), color: STORE_COLORS[node.store] ?? '#555', size: 18 + 30 * node.fidelity, center: node.id === center.value.trim() },
        })),
        ...edges.map((edge, index) => ({
          data: { id: `e${index}`, source: edge.source, target: edge.target, color: EDGE_COLORS[edge.edge_type] ?? '#999', width: 1 + 5 * edge.weight, label: edge.edge_type },
        })),
      ],
      style: [
        {
          selector: 'node',
          style: { 'background-color': 'data(color)', width: 'data(size)', height: 'data(size)', label: 'data(label)', 'font-size': 10, 'text-valign': 'bottom', 'text-margin-y': 4, color: '#1a202c' },
        },
        { selector: 'node[?center]', style: { 'border-width': 3, 'border-color': '#1a202c' } },
        {
          selector: 'edge',
          style: {
            'line-color': 'data(color)',
            'target-arrow-color': 'data(color)',
            'target-arrow-shape': 'triangle',
            width: 'data(width)',
            'curve-style': 'bezier',
            label: 'data(label)',
            'font-size': 8,
            color: '#4a5568',
            'text-rotation': 'autorotate',
          },
        },
      ],
      layout:
        center.value.trim() !== '' && ids.has(center.value.trim())
          ? { name: 'concentric', concentric: (node: cytoscape.NodeSingular) => (node.data('center') ? 2 : 1), levelWidth: () => 1, animate: false, minNodeSpacing: 30 }
          : { name: 'cose', animate: false, randomize: false },
      // A handful of nodes would otherwise be fitted to fill the whole canvas.
      maxZoom: 1.6,
    });
    cy.on('tap', 'node', (event) => navigate(recordHref(event.target.id())));
    const summaryOf = new Map(graph.nodes.map((node) => [node.id, node.summary]));
    replace(
      lists,
      h('p', { class: 'muted' }, `${graph.nodes.length} nodes (${graph.total_nodes} in all), ${edges.length} edges · click a node to open it`),
      graph.nodes.length === 0
        ? h('p', { class: 'empty' }, 'No nodes.')
        : table(
            ['record', 'store', 'fidelity', ''],
            graph.nodes.map((node) => [
              h('a', { href: recordHref(node.id), class: 'graph-node', 'data-record': node.id }, short(node.summary, 90) || node.id),
              storeBadge(node.store),
              fidelity(node.fidelity),
              h('a', { href: graphHref(node.id) }, 'centre here'),
            ]),
            'Nodes',
          ),
      edges.length === 0
        ? null
        : table(
            ['from', 'type', 'weight', 'to'],
            edges.map((edge) => [short(summaryOf.get(edge.source) ?? edge.source, 40), edge.edge_type, edge.weight.toFixed(2), short(summaryOf.get(edge.target) ?? edge.target, 40)]),
            'Edges',
          ),
    );
    canvas.dataset.nodes = String(graph.nodes.length);
  }

  const form = h(
    'form',
    { class: 'toolbar', 'aria-label': 'Graph' },
    field('Centre record', center),
    field('Depth', depth),
    field('Nodes', limit),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Edge types (none = all)'),
      ASSOCIATION_TYPES.map((type, index) => h('label', { class: 'check' }, typeBoxes[index]!, type)),
    ),
    h('button', { type: 'submit', class: 'primary' }, 'Show'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void load();
  });
  void load();
  return h('div', { class: 'view graph-view' }, h('h2', {}, 'Association graph'), form, canvas, lists);
}
