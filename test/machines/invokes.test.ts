import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AnyStateNode } from 'xstate';
import { allMachines } from '../../machines/index.ts';

function nodesOf(node: AnyStateNode): AnyStateNode[] {
  return [node, ...Object.values(node.states).flatMap((child) => nodesOf(child))];
}

// An invoked effect that fails after its retries, with nothing to catch it, puts the whole actor in XState's
// error state: every invocation of every machine must say what its failure does.
for (const module of allMachines) {
  test(`${module.type}: every invoked effect handles its failure`, () => {
    const missing: string[] = [];
    for (const node of nodesOf(module.machine.root)) {
      for (const invoke of node.invoke) {
        if (!node.events.includes(`xstate.error.actor.${invoke.id}`)) missing.push(`${node.id} → ${String(invoke.src)} (${invoke.id})`);
      }
    }
    assert.deepEqual(missing, []);
  });
}
