// Builds the gateway's message table from the protos in proto/, and writes
// etcd-schema.gen.ts when run (after editing the protos):
//   npx tsc ... && node <outDir>/src/api/http/gateway/schema/generate.js
//   npx biome format --write src/api/http/gateway/schema/etcd-schema.gen.ts
// protoc compiles the protos to descriptors; the table keeps, per message,
// what the JSON gateway needs (names, numbers, types, oneofs), so the server
// itself never parses descriptors. schema.test.ts checks the two agree.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFileRegistry, type DescField, fromBinary, ScalarType } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import type { EnumSchema, FieldSchema, MessageSchema, MethodSchema, ScalarKind, Schema } from './types.js';

const SCALARS: Partial<Record<ScalarType, ScalarKind>> = {
  [ScalarType.INT64]: 'int64',
  [ScalarType.UINT64]: 'uint64',
  [ScalarType.INT32]: 'int32',
  [ScalarType.UINT32]: 'uint32',
  [ScalarType.BOOL]: 'bool',
  [ScalarType.STRING]: 'string',
  [ScalarType.BYTES]: 'bytes',
};

function protoFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...protoFiles(p));
    else if (name.endsWith('.proto')) out.push(p);
  }
  return out.sort();
}

/** Go's name for a generated type: package, then the nesting path joined by "_". */
function goName(typeName: string, pkg: string): string {
  return `${pkg}.${typeName.slice(pkg.length + 1).replaceAll('.', '_')}`;
}

function scalarKind(f: DescField, t: ScalarType): ScalarKind {
  const k = SCALARS[t];
  if (k === undefined) throw new Error(`${f.parent.typeName}.${f.name}: scalar type ${t} is not supported`);
  return k;
}

function fieldSchema(f: DescField): FieldSchema {
  const base = { name: f.name, json: f.jsonName, no: f.number };
  let typed: FieldSchema;
  switch (f.fieldKind) {
    case 'scalar':
      typed = { ...base, kind: scalarKind(f, f.scalar) };
      break;
    case 'enum':
      typed = { ...base, kind: 'enum', ref: f.enum.typeName };
      break;
    case 'message':
      typed = { ...base, kind: 'message', ref: f.message.typeName };
      break;
    case 'list':
      if (f.listKind === 'scalar') typed = { ...base, kind: scalarKind(f, f.scalar), repeated: true };
      else if (f.listKind === 'enum') typed = { ...base, kind: 'enum', ref: f.enum.typeName, repeated: true };
      else typed = { ...base, kind: 'message', ref: f.message.typeName, repeated: true };
      break;
    case 'map':
      throw new Error(`${f.parent.typeName}.${f.name}: map fields are not supported`);
  }
  return f.oneof === undefined ? typed : { ...typed, oneof: f.oneof.name };
}

/** The table for the protos under `protoDir` (needs protoc on the PATH). */
export function buildSchema(protoDir: string): Schema {
  const files = protoFiles(protoDir).map((p) => relative(protoDir, p));
  const tmp = mkdtempSync(join(tmpdir(), 'etcd-schema-'));
  let set: Buffer;
  try {
    const setFile = join(tmp, 'set.pb');
    execFileSync('protoc', [
      '-I',
      protoDir,
      '--include_imports',
      `--descriptor_set_out=${setFile}`,
      ...files,
    ]);
    set = readFileSync(setFile);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, new Uint8Array(set)));
  const messages: Record<string, MessageSchema> = {};
  const enums: Record<string, EnumSchema> = {};
  const methods: Record<string, MethodSchema> = {};
  for (const d of registry) {
    if (d.kind === 'message') {
      messages[d.typeName] = {
        go: goName(d.typeName, d.file.proto.package),
        fields: d.fields.map(fieldSchema),
      };
    } else if (d.kind === 'enum') {
      enums[d.typeName] = {
        go: goName(d.typeName, d.file.proto.package),
        values: d.values.map((v) => [v.name, v.number] as const),
      };
    } else if (d.kind === 'service') {
      for (const m of d.methods)
        methods[`${d.typeName}/${m.name}`] = { in: m.input.typeName, out: m.output.typeName };
    }
  }
  const sorted = <T>(r: Record<string, T>) =>
    Object.fromEntries(Object.entries(r).sort(([a], [b]) => a.localeCompare(b)));
  return { messages: sorted(messages), enums: sorted(enums), methods: sorted(methods) };
}

function fieldLine(f: FieldSchema): string {
  const parts = [`name: '${f.name}'`, `json: '${f.json}'`, `no: ${f.no}`, `kind: '${f.kind}'`];
  if (f.ref !== undefined) parts.push(`ref: '${f.ref}'`);
  if (f.repeated === true) parts.push('repeated: true');
  if (f.oneof !== undefined) parts.push(`oneof: '${f.oneof}'`);
  return `        { ${parts.join(', ')} },`;
}

export function renderSchema(schema: Schema): string {
  const lines = [
    '// Generated by generate.ts from proto/ -- do not edit by hand.',
    "import type { Schema } from './types.js';",
    '',
    'export const ETCD_SCHEMA: Schema = {',
    '  messages: {',
  ];
  for (const [name, m] of Object.entries(schema.messages)) {
    lines.push(`    '${name}': {`, `      go: '${m.go}',`);
    if (m.fields.length === 0) lines.push('      fields: [],');
    else lines.push('      fields: [', ...m.fields.map(fieldLine), '      ],');
    lines.push('    },');
  }
  lines.push('  },', '  enums: {');
  for (const [name, e] of Object.entries(schema.enums)) {
    const values = e.values.map(([n, v]) => `['${n}', ${v}]`).join(', ');
    lines.push(`    '${name}': {`, `      go: '${e.go}',`, `      values: [${values}],`, '    },');
  }
  lines.push('  },', '  methods: {');
  for (const [path, m] of Object.entries(schema.methods)) {
    lines.push(`    '${path}': { in: '${m.in}', out: '${m.out}' },`);
  }
  lines.push('  },', '};', '');
  return lines.join('\n');
}

function main(): void {
  const root = process.cwd();
  const schema = buildSchema(join(root, 'proto'));
  const out = join(root, 'src/api/http/gateway/schema/etcd-schema.gen.ts');
  writeFileSync(out, renderSchema(schema));
  const count = (r: object) => Object.keys(r).length;
  process.stdout.write(
    `${count(schema.messages)} messages, ${count(schema.enums)} enums, ${count(schema.methods)} methods -> ${relative(root, out)}\n`,
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
