import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { parseAllDocuments } from 'yaml';

/**
 * Kubernetes manifests checked against the API's published schemas, as `kubectl apply
 * --validate=strict` would, without a cluster:
 * - values (types, required fields, enums, formats) by kubernetes-models, whose validators are
 *   generated from the Kubernetes OpenAPI document (and, for ServiceMonitor, from the
 *   prometheus-operator CRD);
 * - field names by the TypeScript types generated from the same schemas: the OpenAPI schemas
 *   allow unknown fields (the API server drops them), so a misspelled field passes the first
 *   check; here a field that is not in the type is an error, as kubectl's strict validation
 *   makes it.
 */

/** A manifest document found in a file. */
export interface ManifestDocument {
  readonly file: string;
  /** 1-based position of the document in its file. */
  readonly index: number;
  readonly object: Record<string, unknown>;
}

/** Where the models of an apiVersion live (the core group is `v1`). */
function modelModule(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (group === 'monitoring.coreos.com')
    return `@kubernetes-models/prometheus-operator/${apiVersion}/${kind}`;
  return `kubernetes-models/${group ? `${group}/` : ''}${version}/${kind}`;
}

/** Every YAML document under `dir` (recursively) that is a Kubernetes object. */
export function findManifests(dir: string, root: string = dir): ManifestDocument[] {
  const out: ManifestDocument[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      out.push(...findManifests(path, root));
      continue;
    }
    if (!/\.ya?ml$/.test(name)) continue;
    const docs = parseAllDocuments(readFileSync(path, 'utf8'));
    docs.forEach((doc, i) => {
      if (doc.errors.length) throw new Error(`${relative(root, path)}: ${doc.errors[0]?.message}`);
      const object: unknown = doc.toJS();
      if (
        isObject(object) &&
        typeof object.apiVersion === 'string' &&
        typeof object.kind === 'string'
      )
        out.push({ file: relative(root, path), index: i + 1, object });
    });
  }
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Validates manifests; the TypeScript program over the models is built once. */
export class ManifestValidator {
  private readonly checker: ts.TypeChecker;
  private readonly rootTypes = new Map<string, ts.Type>();

  /** `kinds`: every `apiVersion kind` that will be validated. */
  constructor(kinds: readonly { apiVersion: string; kind: string }[]) {
    const entry = join(__dirname, '__k8s_models__.ts');
    // Only names a model can have go into the generated source; any other has no schema.
    const named = kinds.filter(
      (k) =>
        /^[A-Za-z][A-Za-z0-9]*$/.test(k.kind) && /^[a-z0-9.-]+(\/[a-z0-9]+)?$/.test(k.apiVersion),
    );
    const unique = [...new Map(named.map((k) => [`${k.apiVersion} ${k.kind}`, k])).values()];
    const source = unique
      .map(
        ({ apiVersion, kind }, i) =>
          `import type { I${kind} as T${i} } from ${JSON.stringify(modelModule(apiVersion, kind))};\nexport declare const m${i}: T${i};`,
      )
      .join('\n');
    const options: ts.CompilerOptions = {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: [],
      module: ts.ModuleKind.CommonJS,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      target: ts.ScriptTarget.ES2022,
    };
    const host = ts.createCompilerHost(options);
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (name, language) =>
      name === entry ? ts.createSourceFile(name, source, language) : getSourceFile(name, language);
    const fileExists = host.fileExists.bind(host);
    host.fileExists = (name) => name === entry || fileExists(name);
    const program = ts.createProgram([entry], options, host);
    this.checker = program.getTypeChecker();
    const file = program.getSourceFile(entry);
    // A kind without a model does not resolve: its type is `any`, and `validate` says so.
    file?.statements.forEach((statement) => {
      if (!ts.isVariableStatement(statement)) return;
      const declaration = statement.declarationList.declarations[0];
      if (!declaration) return;
      const i = Number(declaration.name.getText(file).slice(1));
      const kind = unique[i];
      const type = this.checker.getTypeAtLocation(declaration.name);
      if (kind && !(type.flags & ts.TypeFlags.Any))
        this.rootTypes.set(`${kind.apiVersion} ${kind.kind}`, type);
    });
  }

  /** Every problem with one manifest: empty when it is valid. */
  validate(object: Record<string, unknown>): string[] {
    const { apiVersion, kind } = object;
    if (typeof apiVersion !== 'string' || typeof kind !== 'string')
      return ["apiVersion and kind are required: they name the object's type"];
    const type = this.rootTypes.get(`${apiVersion} ${kind}`);
    if (!type) return [`no schema for ${apiVersion} ${kind}: not a Kubernetes API type`];
    const problems = this.unknownFields(object, type, '');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const models = require(modelModule(apiVersion, kind)) as Record<
      string,
      new (data: unknown) => { validate(): void }
    >;
    const Model = models[kind];
    try {
      if (!Model) throw new Error(`the models have no ${kind}`);
      new Model(structuredClone(object)).validate();
    } catch (error) {
      problems.push(`schema: ${(error as Error).message}`);
    }
    return problems;
  }

  /** Fields of `value` that `type` does not define, as paths, recursively. */
  private unknownFields(value: unknown, type: ts.Type, path: string): string[] {
    if (Array.isArray(value)) {
      const element = this.elementType(type);
      return element
        ? value.flatMap((item, i) => this.unknownFields(item, element, `${path}[${i}]`))
        : [];
    }
    if (!isObject(value)) return [];
    const members = this.objectMembers(type);
    if (members.length === 0) return [];
    const problems: string[] = [];
    for (const [key, child] of Object.entries(value)) {
      const at = path ? `${path}.${key}` : key;
      // A field of the type, or a key of a map (labels, data, resource quantities).
      const [fieldType] = members.flatMap((t) => {
        const property = t.getProperty(key);
        if (property) return [this.checker.getTypeOfSymbol(property)];
        const index = this.checker.getIndexTypeOfType(t, ts.IndexKind.String);
        return index ? [index] : [];
      });
      if (fieldType) problems.push(...this.unknownFields(child, fieldType, at));
      else
        problems.push(
          `${at}: unknown field (not in ${this.checker.typeToString(members[0] as ts.Type)})`,
        );
    }
    return problems;
  }

  /** The object types a value of `type` can be (undefined and primitives dropped). */
  private objectMembers(type: ts.Type): ts.Type[] {
    const types = type.isUnion() ? type.types : [type];
    return types.filter((t) => t.flags & ts.TypeFlags.Object && !this.checker.isArrayType(t));
  }

  private elementType(type: ts.Type): ts.Type | undefined {
    const types = type.isUnion() ? type.types : [type];
    const array = types.find((t) => this.checker.isArrayType(t));
    return array && this.checker.getTypeArguments(array as ts.TypeReference)[0];
  }
}
