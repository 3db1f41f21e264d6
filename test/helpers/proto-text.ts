import {
  ScalarType,
  type DescExtension,
  type DescField,
  type DescFile,
  type DescMessage,
} from '@bufbuild/protobuf';
import {
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
  type DescriptorProto,
  type EnumDescriptorProto,
  type FileDescriptorProto,
} from '@bufbuild/protobuf/wkt';
import type { NamedDesc } from './reflection-client';

/** What grpcurl calls each kind of element in "<name> is <kind>:". */
const KINDS: Record<NamedDesc['kind'], string> = {
  service: 'a service',
  rpc: 'a method',
  message: 'a message',
  field: 'a field',
  oneof: 'a one-of',
  enum: 'an enum',
  enum_value: 'an enum value',
  extension: 'an extension',
};

/**
 * The element as `grpcurl describe` prints it: its full name, its kind, and proto source
 * rebuilt from the descriptor alone (leading comments kept, type names fully qualified,
 * members sorted), so that the text shows exactly what reflection served.
 */
export function describeDescriptor(desc: NamedDesc): { name: string; kind: string; text: string } {
  return { name: fullName(desc), kind: KINDS[desc.kind], text: render(desc, '').join('\n') };
}

function fullName(desc: NamedDesc): string {
  switch (desc.kind) {
    case 'rpc':
    case 'field':
    case 'oneof':
      return `${desc.parent.typeName}.${desc.name}`;
    case 'enum_value': {
      // Enum values are scoped like their enum's siblings, not inside the enum.
      const scope = desc.parent.typeName.slice(0, desc.parent.typeName.lastIndexOf('.'));
      return scope ? `${scope}.${desc.name}` : desc.name;
    }
    default:
      return desc.typeName;
  }
}

const byName = <T extends { name: string }>(list: readonly T[]) =>
  [...list].sort((a, b) => a.name.localeCompare(b.name));
const byNumber = <T extends { number: number }>(list: readonly T[]) =>
  [...list].sort((a, b) => a.number - b.number);

function render(desc: NamedDesc, indent: string): string[] {
  const inner = `${indent}  `;
  const comment = commentLines(desc, indent);
  const block = (head: string, body: string[]) => [...comment, `${indent}${head} {`, ...body, `${indent}}`];
  switch (desc.kind) {
    case 'service':
      return block(
        `service ${desc.name}`,
        byName(desc.methods).flatMap((m) => render(m, inner)),
      );
    case 'rpc': {
      const streams = (side: 'client' | 'server') =>
        desc.methodKind === 'bidi_streaming' || desc.methodKind === `${side}_streaming` ? 'stream ' : '';
      return [
        ...comment,
        `${indent}rpc ${desc.name} ( ${streams('client')}.${desc.input.typeName} ) returns ( ${streams('server')}.${desc.output.typeName} );`,
      ];
    }
    case 'message':
      return block(`message ${desc.name}`, messageBody(desc, inner));
    case 'oneof':
      return block(
        `oneof ${desc.name}`,
        byNumber(desc.fields).flatMap((f) => render(f, inner)),
      );
    case 'enum':
      return block(
        `enum ${desc.name}`,
        byNumber(desc.values).flatMap((v) => render(v, inner)),
      );
    case 'enum_value':
      return [...comment, `${indent}${desc.name} = ${desc.number};`];
    case 'field':
    case 'extension':
      return [...comment, `${indent}${fieldLine(desc)};`];
  }
}

function messageBody(desc: DescMessage, indent: string): string[] {
  // desc.oneofs and field.oneof leave out the synthetic oneofs of proto3 optional fields.
  return [
    ...byNumber(desc.fields.filter((f) => !f.oneof)).flatMap((f) => render(f, indent)),
    ...desc.oneofs.flatMap((o) => render(o, indent)),
    ...byName(desc.nestedMessages).flatMap((m) => render(m, indent)),
    ...byName(desc.nestedEnums).flatMap((e) => render(e, indent)),
  ];
}

const scalar = (t: ScalarType) => ScalarType[t].toLowerCase();

function fieldLine(field: DescField | DescExtension): string {
  const { proto } = field;
  let type: string;
  if (field.fieldKind === 'map') {
    const value =
      field.mapKind === 'scalar'
        ? scalar(field.scalar)
        : `.${(field.mapKind === 'enum' ? field.enum : field.message).typeName}`;
    type = `map<${scalar(field.mapKey)}, ${value}>`;
  } else if (proto.type === Type.MESSAGE || proto.type === Type.ENUM || proto.type === Type.GROUP) {
    type = proto.typeName;
  } else {
    type = Type[proto.type].toLowerCase();
  }
  const label =
    field.fieldKind === 'map'
      ? ''
      : proto.label === Label.REPEATED
        ? 'repeated '
        : proto.proto3Optional
          ? 'optional '
          : proto.label === Label.REQUIRED
            ? 'required '
            : '';
  return `${label}${type} ${field.name} = ${field.number}`;
}

function fileOf(desc: NamedDesc): DescFile {
  return 'file' in desc ? desc.file : fileOf(desc.parent);
}

const commentsByFile = new WeakMap<FileDescriptorProto, Map<object, string>>();

function commentLines(desc: NamedDesc, indent: string): string[] {
  const file = fileOf(desc).proto;
  let comments = commentsByFile.get(file);
  if (!comments) commentsByFile.set(file, (comments = leadingComments(file)));
  const text = comments.get(desc.proto);
  return text === undefined
    ? []
    : text
        .replace(/\n$/, '')
        .split('\n')
        .map((l) => `${indent}//${l}`);
}

/** Each element's leading comment, keyed by its descriptor proto, from the file's source code info. */
function leadingComments(file: FileDescriptorProto): Map<object, string> {
  const byPath = new Map<string, string>();
  for (const loc of file.sourceCodeInfo?.location ?? [])
    if (loc.leadingComments) byPath.set(loc.path.join('.'), loc.leadingComments);
  const found = new Map<object, string>();
  const add = (element: object, path: number[]) => {
    const text = byPath.get(path.join('.'));
    if (text !== undefined) found.set(element, text);
  };
  // The path numbers are the field numbers in descriptor.proto of each repeated element.
  const enums = (list: EnumDescriptorProto[], path: number[]) =>
    list.forEach((e, i) => {
      add(e, [...path, i]);
      e.value.forEach((v, j) => add(v, [...path, i, 2, j]));
    });
  const messages = (list: DescriptorProto[], path: number[]) =>
    list.forEach((m, i) => {
      const at = [...path, i];
      add(m, at);
      m.field.forEach((f, j) => add(f, [...at, 2, j]));
      m.extension.forEach((f, j) => add(f, [...at, 6, j]));
      m.oneofDecl.forEach((o, j) => add(o, [...at, 8, j]));
      messages(m.nestedType, [...at, 3]);
      enums(m.enumType, [...at, 4]);
    });
  messages(file.messageType, [4]);
  enums(file.enumType, [5]);
  file.service.forEach((s, i) => {
    add(s, [6, i]);
    s.method.forEach((m, j) => add(m, [6, i, 2, j]));
  });
  file.extension.forEach((f, i) => add(f, [7, i]));
  return found;
}
