import { OnnxModelError } from './errors.js';

/** The part of a node the ordering needs. */
export interface NodeLike {
  readonly input?: readonly string[] | null;
  readonly output?: readonly string[] | null;
}

/**
 * Node indices in the order TensorRT's ONNX parser visits them: a depth-first post-order over the producers of
 * each node's inputs, started from each node in file order (onnx-tensorrt's `toposort`). For a graph that is
 * already sorted, as ONNX requires, this is the file order; an unsorted one is put right the same way the parser
 * does, so that parser-generated weight names follow the same sequence. A cycle is an error.
 */
export function topologicalOrder(nodes: readonly NodeLike[]): number[] {
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => {
    for (const o of n.output ?? []) if (o !== '' && !producer.has(o)) producer.set(o, i);
  });
  const state = new Uint8Array(nodes.length); // 0 new, 1 on the stack, 2 done
  const order: number[] = [];
  // Iterative, so that a long chain of nodes cannot overflow the call stack.
  const stack: { node: number; next: number }[] = [];
  for (let start = 0; start < nodes.length; start++) {
    if (state[start]) continue;
    state[start] = 1;
    stack.push({ node: start, next: 0 });
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const inputs = nodes[top.node]!.input ?? [];
      if (top.next < inputs.length) {
        const p = producer.get(inputs[top.next++]!);
        if (p === undefined || p === top.node) {
          if (p === top.node) throw new OnnxModelError(`node #${top.node} consumes its own output: the graph has a cycle`);
          continue;
        }
        if (state[p] === 1) throw new OnnxModelError(`the graph has a cycle through node #${p}`);
        if (state[p] === 0) {
          state[p] = 1;
          stack.push({ node: p, next: 0 });
        }
        continue;
      }
      state[top.node] = 2;
      order.push(top.node);
      stack.pop();
    }
  }
  return order;
}
