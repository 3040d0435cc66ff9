// A decoded message as a tree: segments/records/elements → fields → components, each with its
// position, its name and its value. Built from <details>/<summary>, so it opens and closes with the
// keyboard (Tab to a row, Enter or Space) without any script.
import { h } from '../core/dom';
import type { TreeNode } from '../core/types';

function row(node: TreeNode) {
  return [
    h('code', { class: 'tree-label' }, node.label),
    node.name ? h('span', { class: 'tree-name' }, node.name) : null,
    node.value !== undefined && node.value !== '' ? h('span', { class: 'tree-value' }, node.value) : null,
  ];
}

function renderNode(node: TreeNode, depth: number): HTMLElement {
  if (!node.children || node.children.length === 0) return h('li', { class: 'tree-leaf' }, ...row(node));
  // Top-level nodes (segments) start open; fields with components start closed.
  return h('li', null, h('details', { open: depth === 0 }, h('summary', null, ...row(node)), h('ul', null, ...node.children.map((c) => renderNode(c, depth + 1)))));
}

export function contentTree(nodes: TreeNode[], label: string): HTMLElement {
  return h('ul', { class: 'tree', 'aria-label': label }, ...nodes.map((n) => renderNode(n, 0)));
}
