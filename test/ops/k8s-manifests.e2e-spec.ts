import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { resolverConfigSchema } from '@resolver/config';
import { findManifests, ManifestValidator } from '../support/k8s-manifests';

const ROOT = join(__dirname, '..', '..');
const DOCKER = join(ROOT, 'docker');
const K8S = join(DOCKER, 'k8s');

type Json = Record<string, unknown>;

/** Every key of an object tree, as its path (array positions included). */
function keyPaths(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return value.flatMap((item, i) => keyPaths(item, [...path, i]));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, child]) => [
    [...path, key],
    ...keyPaths(child, [...path, key]),
  ]);
}

/** A path as the validator names it: `spec.containers[0].image`. */
const named = (path: (string | number)[]) =>
  path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i ? `.${p}` : p)).join('');

/** A copy of `object` with the key at `path` misspelled (an `x` appended), in place. */
function misspelled(object: Json, path: (string | number)[]): Json {
  const copy = structuredClone(object);
  let parent: any = copy;
  for (const p of path.slice(0, -1)) parent = parent[p];
  const key = path[path.length - 1] as string;
  const entries = Object.entries(parent as Json);
  for (const k of Object.keys(parent as Json)) delete parent[k];
  for (const [k, v] of entries) parent[k === key ? `${k}x` : k] = v;
  return copy;
}

/** Keys that are data, not field names: any key is valid there (labels, data, quantities). */
function isMapKey(kind: unknown, parent: string): boolean {
  return (
    /(^|\.)(labels|annotations|matchLabels|requests|limits)$/.test(parent) ||
    /^(data|stringData)$/.test(parent) ||
    (kind === 'Service' && parent === 'spec.selector')
  );
}

/**
 * Every Kubernetes manifest under docker/ (each YAML document in each file) is valid against
 * the Kubernetes API schemas, field names included: a misspelled field anywhere fails.
 */
describe('Kubernetes manifests (docker/k8s) against the Kubernetes API schemas', () => {
  const manifests = findManifests(DOCKER);
  const deployment = manifests.find((m) => m.object.kind === 'Deployment')?.object as Json;
  const validator = new ManifestValidator(
    [...manifests.map((m) => m.object), { apiVersion: 'apps/v1', kind: 'Deployment' }].map(
      (o) => o as { apiVersion: string; kind: string },
    ),
  );

  it('finds every document of every file in docker/k8s, each a Kubernetes object', () => {
    const files = readdirSync(K8S).filter((f) => /\.ya?ml$/.test(f));
    const documents = files.flatMap((f) =>
      parseAllDocuments(readFileSync(join(K8S, f), 'utf8')).filter((d) => d.contents !== null),
    );
    expect(manifests.filter((m) => m.file.startsWith('k8s/'))).toHaveLength(documents.length);
    expect(new Set(manifests.map((m) => m.object.kind))).toEqual(
      new Set([
        'ConfigMap',
        'Deployment',
        'HorizontalPodAutoscaler',
        'Job',
        'PodDisruptionBudget',
        'Secret',
        'Service',
        'ServiceMonitor',
      ]),
    );
  });

  it.each(manifests.map((m) => [`${m.file}#${m.index} (${String(m.object.kind)})`, m.object]))(
    '%s is valid',
    (_, object) => {
      expect(validator.validate(object)).toEqual([]);
    },
  );

  // Generated from the manifests: a new field cannot slip past.
  it('a misspelling of any field name in any manifest is an error naming that field', () => {
    let checked = 0;
    for (const { file, index, object } of manifests) {
      for (const path of keyPaths(object)) {
        const parent = named(path.slice(0, -1));
        const problems = validator.validate(misspelled(object, path));
        const where = `${file}#${index} ${named(path)}`;
        if (path.length === 1 && (path[0] === 'apiVersion' || path[0] === 'kind')) {
          expect({ where, problems }).toEqual({
            where,
            problems: ["apiVersion and kind are required: they name the object's type"],
          });
        } else if (isMapKey(object.kind, parent)) {
          expect({ where, problems }).toEqual({ where, problems: [] });
        } else {
          // The misspelled name, and (for a required field) the one now missing.
          const [first, ...rest] = problems;
          const field = new RegExp(`^${escape(`${named(path)}x`)}: unknown field`);
          expect({ where, first, rest }).toEqual({
            where,
            first: expect.stringMatching(field),
            rest: rest.map(() => expect.stringMatching(/^schema: .*must have required property/)),
          });
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(200);
  });

  it('refuses wrong values, missing required fields and unknown kinds', () => {
    const container = (deployment as any).spec.template.spec.containers[0] as Json;
    const withContainer = (changes: Json) => {
      const copy: any = structuredClone(deployment);
      copy.spec.template.spec.containers[0] = { ...container, ...changes };
      return copy as Json;
    };
    expect(validator.validate(withContainer({ imagePullPolicyy: 'Always' }))).toEqual([
      expect.stringMatching(
        /^spec\.template\.spec\.containers\[0\]\.imagePullPolicyy: unknown field/,
      ),
    ]);
    expect(validator.validate({ ...deployment, metdata: {} })).toEqual([
      expect.stringMatching(/^metdata: unknown field/),
    ]);
    expect(
      validator.validate({
        ...deployment,
        spec: { ...(deployment.spec as Json), replicas: 'three' },
      }),
    ).toEqual([expect.stringMatching(/replicas must be integer/)]);
    const { name: _name, ...nameless } = container;
    const noName: any = structuredClone(deployment);
    noName.spec.template.spec.containers[0] = nameless;
    expect(validator.validate(noName)).toEqual([
      expect.stringMatching(/must have required property name/),
    ]);
    expect(validator.validate({ ...deployment, kind: 'Deploymnet' })).toEqual([
      'no schema for apps/v1 Deploymnet: not a Kubernetes API type',
    ]);
    expect(validator.validate({ ...deployment, apiVersion: 'apps/v1beta9' })).toEqual([
      'no schema for apps/v1beta9 Deployment: not a Kubernetes API type',
    ]);
  });

  it("the ConfigMap's resolver.yaml (TLS on both listeners) passes the resolver's config schema", () => {
    const [doc] = parseAllDocuments(readFileSync(join(K8S, 'configmap.yaml'), 'utf8'));
    const configMap = doc?.toJS() as { data: Record<string, string> };
    const file: unknown = parseAllDocuments(configMap.data['resolver.yaml'] ?? '')[0]?.toJS();
    // The schema alone: the certificate files exist only in a pod (resolveSecrets reads them).
    const parsed = resolverConfigSchema.safeParse({
      file,
      env: { DATABASE_URL: 'postgres://resolver:secret@db:5432/resolver' },
    });
    expect(parsed.error?.issues ?? []).toEqual([]);
    expect(parsed.data?.tls.http?.clientCertificate).toBe('optional');
    expect(parsed.data?.tls.grpc?.clientCertificate).toBe('required');
  });

  it('has no Helm chart to render (one added would need its rendered output validated here)', () => {
    const charts = [ROOT, DOCKER, K8S].filter((dir) => existsSync(join(dir, 'Chart.yaml')));
    expect(charts).toEqual([]);
    expect(readdirSync(DOCKER).filter((name) => /chart|helm/i.test(name))).toEqual([]);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
