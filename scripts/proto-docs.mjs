#!/usr/bin/env node
// Renders docs/proto.md from the comments in proto/ (read from `buf build`'s source info).
// With --check, fails when docs/proto.md is stale or when any service, RPC, message,
// field, oneof, enum or enum value of ours has no leading comment, and lists them.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromBinary, isFieldSet } from '@bufbuild/protobuf';
import { format, resolveConfig } from 'prettier';
import {
  FieldDescriptorProtoSchema,
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FileDescriptorSetSchema,
} from '@bufbuild/protobuf/wkt';

const root = join(import.meta.dirname, '..');
const out = join(root, 'docs', 'proto.md');
const check = process.argv.includes('--check');
const buf = join(root, 'node_modules', '.bin', 'buf');

// Field numbers of descriptor.proto, which address declarations in SourceCodeInfo paths.
const FILE_MESSAGE = 4;
const FILE_ENUM = 5;
const FILE_SERVICE = 6;
const MESSAGE_FIELD = 2;
const MESSAGE_NESTED = 3;
const MESSAGE_ENUM = 4;
const MESSAGE_ONEOF = 8;
const ENUM_VALUE = 2;
const SERVICE_METHOD = 2;

const set = fromBinary(
  FileDescriptorSetSchema,
  execFileSync(buf, ['build', '--as-file-descriptor-set', '-o', '-'], { cwd: root, maxBuffer: 64 << 20 }),
);
const ours = set.file.filter((f) => !f.name.startsWith('google/'));
const missing = [];

/** The leading comment of the declaration at `path`, unwrapped into one paragraph per blank line. */
function commentOf(file, path, what) {
  const key = path.join('.');
  const location = file.sourceCodeInfo?.location.find((l) => l.path.join('.') === key);
  const text = (location?.leadingComments ?? '').trim();
  if (!text) missing.push(`${file.name}: ${what}`);
  return text
    .split(/\n\s*\n/)
    .map((p) =>
      p
        .split('\n')
        .map((l) => l.trim())
        .join(' '),
    )
    .join('\n\n');
}

const cell = (s) => s.replace(/\|/g, '\\|').replace(/\n\n/g, '<br><br>');
const anchor = (fullName) => fullName.toLowerCase().replace(/[^a-z0-9]+/g, '-');
const link = (typeName) => {
  const name = typeName.replace(/^\./, '');
  const known = ours.some((f) => name.startsWith(`${f.package}.`));
  const short = name.split('.').pop();
  return known ? `[${short}](#${anchor(name)})` : `\`${name}\``;
};

function typeOf(field, message) {
  // A map field's type is a synthetic entry message, which is not rendered: show map<K, V>.
  const entry =
    field.typeName &&
    message?.nestedType.find((n) => n.options?.mapEntry && field.typeName.endsWith(`.${n.name}`));
  if (entry) return `map&lt;${typeOf(entry.field[0])}, ${typeOf(entry.field[1])}&gt;`;
  if (field.typeName) return link(field.typeName);
  return FieldDescriptorProto_Type[field.type].toLowerCase();
}

function renderEnum(file, e, path, prefix, lines) {
  const fullName = `${prefix}.${e.name}`;
  lines.push(`### ${e.name}`, '', `<a id="${anchor(fullName)}"></a>enum \`${fullName}\``, '');
  lines.push(commentOf(file, path, `enum ${fullName}`), '');
  lines.push('| value | number | description |', '| --- | --- | --- |');
  e.value.forEach((v, i) => {
    const c = commentOf(file, [...path, ENUM_VALUE, i], `enum value ${fullName}.${v.name}`);
    lines.push(`| \`${v.name}\` | ${v.number} | ${cell(c)} |`);
  });
  lines.push('');
}

function renderMessage(file, m, path, prefix, lines) {
  const fullName = `${prefix}.${m.name}`;
  lines.push(`### ${m.name}`, '', `<a id="${anchor(fullName)}"></a>message \`${fullName}\``, '');
  lines.push(commentOf(file, path, `message ${fullName}`), '');
  if (m.field.length > 0) {
    lines.push('| field | number | type | description |', '| --- | --- | --- | --- |');
    m.field.forEach((f, i) => {
      let c = commentOf(file, [...path, MESSAGE_FIELD, i], `field ${fullName}.${f.name}`);
      const type = typeOf(f, m);
      const repeated =
        f.label === FieldDescriptorProto_Label.REPEATED && !type.startsWith('map&lt;') ? 'repeated ' : '';
      // descriptor.proto is proto2: an unset oneof_index reads as 0, so ask whether it is set.
      if (isFieldSet(f, FieldDescriptorProtoSchema.field.oneofIndex) && !f.proto3Optional) {
        const oneof = m.oneofDecl[f.oneofIndex].name;
        c = `${c}${c ? ' ' : ''}(one of \`${oneof}\`)`;
      }
      lines.push(`| \`${f.name}\` | ${f.number} | ${repeated}${cell(type)} | ${cell(c)} |`);
    });
    lines.push('');
  }
  m.oneofDecl.forEach((o, i) => {
    const members = m.field.filter(
      (f) => isFieldSet(f, FieldDescriptorProtoSchema.field.oneofIndex) && f.oneofIndex === i,
    );
    if (members.every((f) => f.proto3Optional)) return; // the synthetic oneof of a proto3 `optional`
    const c = commentOf(file, [...path, MESSAGE_ONEOF, i], `oneof ${fullName}.${o.name}`);
    lines.push(`One of \`${o.name}\`: ${c}`, '');
  });
  m.enumType.forEach((e, i) => renderEnum(file, e, [...path, MESSAGE_ENUM, i], fullName, lines));
  m.nestedType.forEach((n, i) => {
    if (!n.options?.mapEntry) renderMessage(file, n, [...path, MESSAGE_NESTED, i], fullName, lines);
  });
}

function render() {
  const lines = [
    '# The gRPC contract',
    '',
    '<!-- Generated by scripts/proto-docs.mjs from the comments in proto/. Do not edit: run `npm run docs`. -->',
    '',
  ];
  for (const file of ours) {
    lines.push(`## ${file.name}`, '', `package \`${file.package}\``, '');
    file.service.forEach((s, si) => {
      const fullName = `${file.package}.${s.name}`;
      lines.push(`### ${s.name}`, '', `<a id="${anchor(fullName)}"></a>service \`${fullName}\``, '');
      lines.push(commentOf(file, [FILE_SERVICE, si], `service ${fullName}`), '');
      lines.push('| rpc | request | response | description |', '| --- | --- | --- | --- |');
      s.method.forEach((m, mi) => {
        const c = commentOf(file, [FILE_SERVICE, si, SERVICE_METHOD, mi], `rpc ${fullName}.${m.name}`);
        lines.push(`| \`${m.name}\` | ${link(m.inputType)} | ${link(m.outputType)} | ${cell(c)} |`);
      });
      lines.push('');
    });
    file.messageType.forEach((m, i) => renderMessage(file, m, [FILE_MESSAGE, i], file.package, lines));
    file.enumType.forEach((e, i) => renderEnum(file, e, [FILE_ENUM, i], file.package, lines));
  }
  return `${lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()}\n`;
}

// Formatted as `prettier --check .` expects, so the two checks agree.
const markdown = await format(render(), { ...(await resolveConfig(out)), filepath: out });
if (!check) {
  writeFileSync(out, markdown);
  console.log(
    `wrote docs/proto.md${missing.length ? ` (${missing.length} declarations lack a comment)` : ''}`,
  );
} else {
  let failed = false;
  if (missing.length > 0) {
    console.error(`These declarations in proto/ have no comment:\n  ${missing.join('\n  ')}`);
    failed = true;
  }
  let current = '';
  try {
    current = readFileSync(out, 'utf8');
  } catch {
    // missing counts as stale
  }
  if (current !== markdown) {
    console.error('docs/proto.md is stale: run `npm run docs` and commit the result.');
    failed = true;
  }
  if (failed) process.exit(1);
  console.log('docs/proto.md is up to date and every declaration in proto/ is commented');
}
