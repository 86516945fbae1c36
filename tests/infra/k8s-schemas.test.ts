import path from 'node:path';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Job } from 'kubernetes-models/batch/v1';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Secret, Service } from 'kubernetes-models/v1';
import { kustomize, type Manifest } from '@mm/test-support/kustomize';

/**
 * Every object each overlay renders, validated against the Kubernetes API's OpenAPI schemas as
 * kubernetes-models ships them (offline; the version is stated in k8s/README.md): a wrong type, a
 * missing required field or a value outside an enum fails here rather than at `kubectl apply`.
 * These schemas allow unknown fields, so a misspelt optional field is not caught.
 */
const K8S = path.resolve(__dirname, '../../k8s');

interface Model {
  validate(): void;
}
const MODELS: Record<string, new (data: any) => Model> = {
  'apps/v1 Deployment': Deployment,
  'apps/v1 StatefulSet': StatefulSet,
  'autoscaling/v2 HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'batch/v1 Job': Job,
  'networking.k8s.io/v1 Ingress': Ingress,
  'policy/v1 PodDisruptionBudget': PodDisruptionBudget,
  'v1 ConfigMap': ConfigMap,
  'v1 Namespace': Namespace,
  'v1 Secret': Secret,
  'v1 Service': Service,
};

/** The schema's complaint about a manifest, or undefined when it is valid. */
function schemaErrors(manifest: Manifest): string | undefined {
  const Model = MODELS[`${manifest.apiVersion} ${manifest.kind}`];
  // A kind without a model here is not skipped: it fails until it is added above.
  if (!Model) return `no schema model for ${manifest.apiVersion} ${manifest.kind}`;
  try {
    new Model(manifest).validate();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

it('when a manifest breaks its schema, then the validation names the field', () => {
  const ingress: Manifest = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'broken' },
    spec: { rules: [{ http: { paths: [{ path: '/', pathType: 'Anything', backend: {} }] } }] },
  };
  expect(schemaErrors(ingress)).toMatch(/pathType/);
  expect(schemaErrors({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } })).toMatch(
    /no schema model/,
  );
});

describe.each(['dev', 'prod'])('the %s overlay', (overlay) => {
  const manifests = kustomize(path.join(K8S, 'overlays', overlay));

  it('when rendered, then every object is valid against the Kubernetes API schemas', () => {
    expect(manifests.length).toBeGreaterThan(0);
    const results = manifests.map((manifest) => ({
      object: `${manifest.kind}/${manifest.metadata.name}`,
      errors: schemaErrors(manifest),
    }));
    expect(results.filter((result) => result.errors)).toEqual([]);
  });
});
