import { clone, createFileRegistry, type FileRegistry } from '@bufbuild/protobuf';
import {
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
  FileDescriptorProtoSchema,
  type DescriptorProto,
  type FieldDescriptorProto,
  type FileDescriptorProto,
} from '@bufbuild/protobuf/wkt';

/**
 * Links `file` with its imports, taken from `available`, as strictly as protoc and grpcurl:
 * every import must be available, no type may be defined twice, and every type a field,
 * extension or method names must resolve (by protobuf's scoping rules, for a name without
 * a leading dot) to a type of the file itself, of a file it imports, or of one those
 * re-export publicly. A type found only in some other file gets grpcurl's error: "… seems
 * to be defined in …, which is not imported by …". Throws on the first problem found;
 * otherwise returns the linked files in a registry, type names made fully qualified.
 */
export function linkFile(file: FileDescriptorProto, available: Iterable<FileDescriptorProto>): FileRegistry {
  const byName = new Map([...available].map((f) => [f.name, f]));
  byName.set(file.name, file);
  const definedIn = new Map<string, string>();
  for (const f of byName.values())
    for (const type of typeNames(f)) {
      const other = definedIn.get(type);
      if (other !== undefined && other !== f.name)
        throw new Error(`"${type}" is defined in both "${other}" and "${f.name}"`);
      definedIn.set(type, f.name);
    }

  const linked = new Map<string, FileDescriptorProto>();
  const link = (f: FileDescriptorProto) => {
    if (linked.has(f.name)) return;
    const visible = new Set([f.name]);
    const see = (dep: string, importer: string) => {
      const d = byName.get(dep);
      if (!d) throw new Error(`"${importer}" imports "${dep}", which is not available`);
      visible.add(dep);
      for (const i of d.publicDependency) see(d.dependency[i], dep);
    };
    for (const dep of f.dependency) see(dep, f.name);

    const copy = clone(FileDescriptorProtoSchema, f);
    for (const ref of typeReferences(copy)) {
      let elsewhere: string | undefined;
      const found = candidates(ref.name, ref.scope).find((name) => {
        const home = definedIn.get(name);
        if (home !== undefined && !visible.has(home)) elsewhere ??= name;
        return home !== undefined && visible.has(home);
      });
      if (found !== undefined) ref.set(`.${found}`);
      else if (elsewhere !== undefined)
        throw new Error(
          `${ref.where}: "${elsewhere}" seems to be defined in "${definedIn.get(elsewhere)}", which is not imported by "${f.name}"`,
        );
      else throw new Error(`${ref.where}: type "${ref.name}" is not defined in "${f.name}" or its imports`);
    }
    checkMapEntries(copy.package, copy.messageType);
    linked.set(f.name, copy);
    for (const dep of f.dependency) link(byName.get(dep)!);
  };
  link(file);
  return createFileRegistry(linked.get(file.name)!, (name) => linked.get(name));
}

/**
 * A map entry is what protoc makes of `map<K, V> name`: a nested `NameEntry` with key = 1
 * and value = 2, used by one repeated field of its parent. Anything else is not a map.
 */
function checkMapEntries(scope: string, messages: DescriptorProto[]): void {
  for (const m of messages) {
    const full = prefix(scope) + m.name;
    for (const entry of m.nestedType.filter((n) => n.options?.mapEntry)) {
      const users = m.field.filter((f) => f.typeName === `.${full}.${entry.name}`);
      const expected =
        users[0] &&
        `${users[0].name
          .split('_')
          .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
          .join('')}Entry`;
      const [key, value] = entry.field;
      const problem =
        users.length !== 1 || users[0].label !== Label.REPEATED
          ? 'must be the type of exactly one repeated field'
          : entry.name !== expected
            ? `must be named "${expected}" after its field "${users[0].name}"`
            : entry.field.length !== 2 ||
                key.name !== 'key' ||
                key.number !== 1 ||
                value.name !== 'value' ||
                value.number !== 2
              ? 'must have exactly the fields key = 1 and value = 2'
              : undefined;
      if (problem) throw new Error(`map entry ${full}.${entry.name} ${problem}`);
    }
    checkMapEntries(full, m.nestedType);
  }
}

/** The full names `name` may mean from inside `scope`: innermost scope first, as C++ looks names up. */
function candidates(name: string, scope: string): string[] {
  if (name.startsWith('.')) return [name.slice(1)];
  const names: string[] = [];
  for (let s = scope; ; s = s.slice(0, Math.max(s.lastIndexOf('.'), 0))) {
    names.push(s ? `${s}.${name}` : name);
    if (!s) return names;
  }
}

const prefix = (scope: string) => (scope ? `${scope}.` : '');

/** The full names of the messages and enums a file defines, nested ones included. */
function typeNames(file: FileDescriptorProto): string[] {
  const names: string[] = [];
  const walk = (scope: string, messages: DescriptorProto[], enums: { name: string }[]) => {
    for (const e of enums) names.push(prefix(scope) + e.name);
    for (const m of messages) {
      names.push(prefix(scope) + m.name);
      walk(prefix(scope) + m.name, m.nestedType, m.enumType);
    }
  };
  walk(file.package, file.messageType, file.enumType);
  return names;
}

interface TypeReference {
  name: string;
  /** Where a relative name is looked up from. */
  scope: string;
  /** The referring element, for errors. */
  where: string;
  set(fullName: string): void;
}

/** Every type name a file refers to: field and extension types, extendees, method input and output. */
function typeReferences(file: FileDescriptorProto): TypeReference[] {
  const refs: TypeReference[] = [];
  const fields = (scope: string, list: FieldDescriptorProto[]) => {
    for (const f of list) {
      const where = `field ${prefix(scope)}${f.name}`;
      if (f.extendee) refs.push({ name: f.extendee, scope, where, set: (n) => (f.extendee = n) });
      if (f.type === Type.MESSAGE || f.type === Type.ENUM || f.type === Type.GROUP)
        refs.push({ name: f.typeName, scope, where, set: (n) => (f.typeName = n) });
    }
  };
  const messages = (scope: string, list: DescriptorProto[]) => {
    for (const m of list) {
      fields(prefix(scope) + m.name, [...m.field, ...m.extension]);
      messages(prefix(scope) + m.name, m.nestedType);
    }
  };
  messages(file.package, file.messageType);
  fields(file.package, file.extension);
  for (const s of file.service)
    for (const m of s.method) {
      const scope = prefix(file.package) + s.name;
      const where = `method ${scope}.${m.name}`;
      refs.push({ name: m.inputType, scope, where, set: (n) => (m.inputType = n) });
      refs.push({ name: m.outputType, scope, where, set: (n) => (m.outputType = n) });
    }
  return refs;
}
