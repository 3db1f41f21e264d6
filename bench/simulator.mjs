// The built-in DingTalk simulator in a process of its own, so its CPU and memory are not
// the gateway's. The per-user daily cap is lifted: the benchmark sends far more than 500
// notifications to the two demo recipients. Reports its coordinates over IPC.
import { startSimulator } from '../dist/dingtalk/simulator.js';

const sim = await startSimulator({ host: '127.0.0.1', port: 0, dailyCapPerUser: Number.MAX_SAFE_INTEGER });
process.send({ url: sim.url, appKey: sim.appKey, appSecret: sim.appSecret, agentId: sim.agentId });
process.on('message', (m) => {
  if (m === 'calls') process.send({ calls: sim.calls });
});
process.on('SIGTERM', () => sim.close().then(() => process.exit(0)));
