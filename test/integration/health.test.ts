import { startGateway, type TestGateway } from '../helpers/gateway';
import { healthStatus } from '../helpers/grpc-client';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(() => gw.stop());

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
