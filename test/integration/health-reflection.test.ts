import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { join } from 'node:path';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { healthStatus } from '../helpers/grpc-client';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(() => gw.stop());

type Ctor = new (address: string, creds: grpc.ChannelCredentials) => grpc.Client & Record<string, Function>;
function loadService(file: string, path: string[], includeDirs: string[] = []): Ctor {
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(file, { includeDirs })) as Record<
    string,
    unknown
  >;
  return path.reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], pkg) as Ctor;
}

describe('health', () => {
  it('reports SERVING for the server and each service', async () => {
    for (const service of [
      '',
      'dingtalk.gateway.v1.VerificationService',
      'dingtalk.gateway.v1.BindingService',
    ]) {
      expect(await healthStatus(gw.app.grpc.address, service)).toBe('SERVING');
    }
  });
});

describe('reflection', () => {
  const dir = join(require.resolve('@grpc/reflection'), '..', '..', 'proto');
  const Reflection = loadService(
    join(dir, 'grpc/reflection/v1/reflection.proto'),
    ['grpc', 'reflection', 'v1', 'ServerReflection'],
    [dir],
  );

  function ask(request: Record<string, unknown>): Promise<Record<string, any>> {
    const client = new Reflection(gw.app.grpc.address, grpc.credentials.createInsecure());
    return new Promise((resolve, reject) => {
      const stream = client.serverReflectionInfo();
      stream.on('data', (d: Record<string, unknown>) => {
        resolve(d);
        stream.end();
        client.close();
      });
      stream.on('error', reject);
      stream.write(request);
    });
  }

  it('lists our services, health and reflection (what `grpcurl list` shows)', async () => {
    const res = await ask({ listServices: '' });
    const names = res.listServicesResponse.service.map((s: { name: string }) => s.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'dingtalk.gateway.v1.VerificationService',
        'dingtalk.gateway.v1.BindingService',
        'grpc.health.v1.Health',
      ]),
    );
  });

  it('describes a service with its comments (what `grpcurl describe` shows)', async () => {
    const res = await ask({ fileContainingSymbol: 'dingtalk.gateway.v1.VerificationService' });
    const files: Buffer[] = res.fileDescriptorResponse.fileDescriptorProto;
    const text = Buffer.concat(files).toString('utf8');
    expect(text).toContain('SendCode');
    expect(text).toContain('VerifyCode');
    expect(text).toContain('TestScenario');
  });
});
