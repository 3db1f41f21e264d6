import { clone, createFileRegistry, fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { DESCRIPTOR_SET_BASE64 } from '../../src/gen/descriptors';
import { linkFile } from '../helpers/proto-link';

// The linker the reflection tests rely on: if it accepted broken descriptors, they would prove nothing.

const FILES = new Map(
  fromBinary(FileDescriptorSetSchema, Buffer.from(DESCRIPTOR_SET_BASE64, 'base64')).file.map((f) => [
    f.name,
    f,
  ]),
);

describe('the strict linker (a control: these tests can fail)', () => {
  const verification = FILES.get('dingtalk/gateway/v1/verification.proto')!;
  const all = () => [...FILES.values()];

  it('links what buf built', () => {
    expect(linkFile(verification, all()).getService('dingtalk.gateway.v1.VerificationService')).toBeDefined();
  });

  it('resolves relative type names by protobuf scoping, as protoc and grpcurl do', () => {
    const relative = clone(FileDescriptorProtoSchema, verification);
    for (const m of relative.messageType)
      for (const f of m.field) f.typeName = f.typeName.replace(/^\.(dingtalk\.gateway\.v1\.)?/, '');
    const linked = linkFile(relative, all()).getMessage('dingtalk.gateway.v1.SendCodeResponse')!;
    expect(linked.field.expiresAt.message?.typeName).toBe('google.protobuf.Timestamp');
    expect(linked.field.recipientSource.enum?.typeName).toBe('dingtalk.gateway.v1.RecipientSource');
  });

  it('rejects a file whose dependency list was emptied, as grpcurl does', () => {
    const emptied = { ...clone(FileDescriptorProtoSchema, verification), dependency: [] };
    expect(() => linkFile(emptied, all())).toThrow(
      /seems to be defined in "[^"]+", which is not imported by "dingtalk\/gateway\/v1\/verification.proto"/,
    );
    // The library under it refuses as well, if less helpfully.
    expect(() => createFileRegistry(emptied, () => undefined)).toThrow(/not found/);
  });

  it('rejects an import it cannot resolve', () => {
    const rest = all().filter((f) => f.name !== 'google/protobuf/timestamp.proto');
    expect(() => linkFile(verification, rest)).toThrow(
      '"dingtalk/gateway/v1/verification.proto" imports "google/protobuf/timestamp.proto", which is not available',
    );
    expect(() => createFileRegistry(verification, (n) => rest.find((f) => f.name === n))).toThrow(
      /Unable to resolve google\/protobuf\/timestamp.proto/,
    );
  });

  it('rejects a map entry protoc would not have made (what @grpc/reflection served for health)', () => {
    const health = clone(FileDescriptorProtoSchema, FILES.get('grpc/health/v1/health.proto')!);
    const list = health.messageType.find((m) => m.name === 'HealthListResponse')!;
    list.nestedType[0].name = 'Statuses';
    list.field[0].typeName = '.grpc.health.v1.HealthListResponse.Statuses';
    expect(() => linkFile(health, [])).toThrow('must be named "StatusesEntry" after its field "statuses"');
  });
});
