import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';

// The reflection messages, encoded by field number (v1 and v1alpha are identical on the
// wire), so that the test client does not depend on the server's copy of reflection.proto.

/**
 * A ServerReflectionRequest: `host` and one question. The fields are those of the proto's
 * oneof; setting none makes the request the server must refuse.
 */
export interface ReflectionRequest {
  host?: string;
  fileByFilename?: string;
  fileContainingSymbol?: string;
  fileContainingExtension?: { containingType: string; extensionNumber: number };
  allExtensionNumbersOfType?: string;
  listServices?: string;
}

/** A ServerReflectionResponse, with each served FileDescriptorProto as the exact bytes received. */
export interface ReflectionResponse {
  validHost: string;
  originalRequest?: ReflectionRequest;
  fileDescriptorProtos?: Uint8Array[];
  allExtensionNumbers?: { baseTypeName: string; extensionNumbers: number[] };
  services?: string[];
  error?: { code: number; message: string };
}

const LEN = WireType.LengthDelimited;

/** Encodes a ServerReflectionRequest. */
export function encodeRequest(req: ReflectionRequest): Uint8Array {
  const w = new BinaryWriter();
  if (req.host !== undefined) w.tag(1, LEN).string(req.host);
  if (req.fileByFilename !== undefined) w.tag(3, LEN).string(req.fileByFilename);
  if (req.fileContainingSymbol !== undefined) w.tag(4, LEN).string(req.fileContainingSymbol);
  if (req.fileContainingExtension !== undefined) {
    const { containingType, extensionNumber } = req.fileContainingExtension;
    w.tag(5, LEN).fork().tag(1, LEN).string(containingType).tag(2, WireType.Varint).int32(extensionNumber);
    w.join();
  }
  if (req.allExtensionNumbersOfType !== undefined) w.tag(6, LEN).string(req.allExtensionNumbersOfType);
  if (req.listServices !== undefined) w.tag(7, LEN).string(req.listServices);
  return w.finish();
}

type FieldReaders = Record<number, (r: BinaryReader, wireType: WireType) => void>;

/** Reads a message field by field; fields without a reader are skipped, as unknown fields are. */
function decode(bytes: Uint8Array, readers: FieldReaders): void {
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const [field, wireType] = r.tag();
    if (readers[field]) readers[field](r, wireType);
    else r.skip(wireType, field);
  }
}

/** Decodes a ServerReflectionRequest (the echo in original_request). */
function decodeRequest(bytes: Uint8Array): ReflectionRequest {
  const req: ReflectionRequest = {};
  decode(bytes, {
    1: (r) => (req.host = r.string()),
    3: (r) => (req.fileByFilename = r.string()),
    4: (r) => (req.fileContainingSymbol = r.string()),
    5: (r) => {
      const ext = (req.fileContainingExtension = { containingType: '', extensionNumber: 0 });
      decode(r.bytes(), {
        1: (e) => (ext.containingType = e.string()),
        2: (e) => (ext.extensionNumber = e.int32()),
      });
    },
    6: (r) => (req.allExtensionNumbersOfType = r.string()),
    7: (r) => (req.listServices = r.string()),
  });
  return req;
}

/** Decodes a ServerReflectionResponse. */
export function decodeResponse(bytes: Uint8Array): ReflectionResponse {
  const res: ReflectionResponse = { validHost: '' };
  decode(bytes, {
    1: (r) => (res.validHost = r.string()),
    2: (r) => (res.originalRequest = decodeRequest(r.bytes())),
    4: (r) => {
      const files: Uint8Array[] = (res.fileDescriptorProtos = []);
      decode(r.bytes(), { 1: (f) => files.push(f.bytes().slice()) });
    },
    5: (r) => {
      const ext = (res.allExtensionNumbers = { baseTypeName: '', extensionNumbers: [] as number[] });
      decode(r.bytes(), {
        1: (e) => (ext.baseTypeName = e.string()),
        2: (e, wireType) => {
          if (wireType !== LEN) return void ext.extensionNumbers.push(e.int32());
          const packed = new BinaryReader(e.bytes());
          while (packed.pos < packed.len) ext.extensionNumbers.push(packed.int32());
        },
      });
    },
    6: (r) => {
      const services: string[] = (res.services = []);
      decode(r.bytes(), { 1: (s) => decode(s.bytes(), { 1: (n) => services.push(n.string()) }) });
    },
    7: (r) => {
      const error = (res.error = { code: 0, message: '' });
      decode(r.bytes(), { 1: (e) => (error.code = e.int32()), 2: (e) => (error.message = e.string()) });
    },
  });
  return res;
}
