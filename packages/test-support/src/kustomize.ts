import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

/**
 * A small kustomize for the tests (kustomize and kubectl are not installed where they run). It
 * resolves what k8s/ uses and refuses anything else, so the overlays stay within what it renders
 * like kustomize does:
 * - `resources`: files (several documents each) or directories holding a kustomization.yaml;
 * - `patches`: strategic-merge patches matched by kind and name (maps merge, lists of named items
 *   merge by name, other lists are replaced, `$patch: delete` removes the resource), or JSON6902
 *   operations (add, replace, remove) on a `target` kind and name;
 * - `images` (newName, newTag) and `namespace`.
 */
export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string } & Record<string, any>;
} & Record<string, any>;

const KNOWN_KEYS = new Set(['apiVersion', 'kind', 'resources', 'patches', 'images', 'namespace']);
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding']);

export function kustomize(dir: string): Manifest[] {
  const kustomization = parse(readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8'));
  const unknown = Object.keys(kustomization).filter((key) => !KNOWN_KEYS.has(key));
  if (unknown.length) throw new Error(`${dir}: the test resolver does not handle ${unknown}`);

  let manifests: Manifest[] = (kustomization.resources ?? []).flatMap((entry: string) => {
    const target = path.join(dir, entry);
    return statSync(target).isDirectory() ? kustomize(target) : readManifests(target);
  });

  for (const patch of kustomization.patches ?? []) {
    if (!patch.path) throw new Error(`${dir}: only patches from files are handled`);
    const body = parse(readFileSync(path.join(dir, patch.path), 'utf8'));
    if (Array.isArray(body)) {
      const matches = manifests.filter((m) => matchesTarget(m, patch.target));
      if (!patch.target || matches.length === 0) throw new Error(`${patch.path}: no target`);
      matches.forEach((manifest) => body.forEach((op) => applyJson6902(manifest, op)));
    } else {
      const index = manifests.findIndex(
        (m) => m.kind === body.kind && m.metadata.name === body.metadata?.name,
      );
      if (index < 0) throw new Error(`${patch.path}: no ${body.kind} ${body.metadata?.name}`);
      if (body.$patch === 'delete') manifests = manifests.filter((_, i) => i !== index);
      else manifests[index] = strategicMerge(manifests[index], body);
    }
  }

  for (const image of kustomization.images ?? []) {
    for (const container of manifests.flatMap(containersOf)) {
      const [name, tag] = splitImage(container.image);
      if (name !== image.name) continue;
      container.image = `${image.newName ?? name}:${image.newTag ?? tag ?? 'latest'}`;
    }
  }

  if (kustomization.namespace) {
    for (const manifest of manifests) {
      if (!CLUSTER_SCOPED.has(manifest.kind)) manifest.metadata.namespace = kustomization.namespace;
    }
  }
  return manifests;
}

function readManifests(file: string): Manifest[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((doc): doc is Manifest => doc !== null);
}

/** Containers and init containers of any workload's pod template (Deployment, StatefulSet, Job). */
export function containersOf(manifest: Manifest): any[] {
  const pod = manifest.spec?.template?.spec;
  return pod ? [...(pod.initContainers ?? []), ...(pod.containers ?? [])] : [];
}

function matchesTarget(manifest: Manifest, target?: { kind?: string; name?: string }): boolean {
  return (
    !!target &&
    (!target.kind || manifest.kind === target.kind) &&
    (!target.name || manifest.metadata.name === target.name)
  );
}

function splitImage(image: string): [string, string | undefined] {
  const at = image.lastIndexOf(':');
  return at > image.lastIndexOf('/')
    ? [image.slice(0, at), image.slice(at + 1)]
    : [image, undefined];
}

const isObject = (value: unknown): value is Record<string, any> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function strategicMerge(base: any, patch: any): any {
  if (Array.isArray(base) && Array.isArray(patch)) {
    const named = (list: any[]) => list.every((item) => isObject(item) && 'name' in item);
    if (!named(base) || !named(patch)) return structuredClone(patch);
    const merged = base.map((item) => {
      const update = patch.find((p) => p.name === item.name);
      return update ? strategicMerge(item, update) : item;
    });
    return [...merged, ...patch.filter((p) => !base.some((item) => item.name === p.name))];
  }
  if (isObject(base) && isObject(patch)) {
    const merged: Record<string, any> = { ...base };
    for (const [key, value] of Object.entries(patch)) {
      if (value === null) delete merged[key];
      else merged[key] = strategicMerge(base[key], value);
    }
    return merged;
  }
  return structuredClone(patch);
}

function applyJson6902(document: any, op: { op: string; path: string; value?: unknown }): void {
  const keys = op.path
    .split('/')
    .slice(1)
    .map((key) => key.replace(/~1/g, '/').replace(/~0/g, '~'));
  const last = keys.pop()!;
  let parent = document;
  for (const key of keys) {
    parent = parent?.[Array.isArray(parent) ? Number(key) : key];
    if (parent === undefined) throw new Error(`${op.path}: no such path`);
  }
  if (Array.isArray(parent)) {
    const index = last === '-' ? parent.length : Number(last);
    if (op.op === 'add') parent.splice(index, 0, structuredClone(op.value));
    else if (op.op === 'replace') parent[index] = structuredClone(op.value);
    else if (op.op === 'remove') parent.splice(index, 1);
    else throw new Error(`JSON6902 ${op.op} is not handled`);
    return;
  }
  if (op.op === 'add' || op.op === 'replace') {
    if (op.op === 'replace' && !(last in parent)) throw new Error(`${op.path}: nothing to replace`);
    parent[last] = structuredClone(op.value);
  } else if (op.op === 'remove') delete parent[last];
  else throw new Error(`JSON6902 ${op.op} is not handled`);
}
