import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UserError } from '../../common/index.js';
import { exposedPorts } from '../../planner/expose.js';

// EXPOSE's port specs as BuildKit reads them (frontend/dockerfile/dockerfile2llb/convert_expose.go).
const ok = [
  { name: 'a port is tcp by default', spec: '80', want: ['80/tcp'] },
  { name: 'the protocol is lower-cased', spec: '53/UDP', want: ['53/udp'] },
  { name: 'a range gives each port', spec: '8000-8002/udp', want: ['8000/udp', '8001/udp', '8002/udp'] },
  { name: 'ip and host port are dropped', spec: '127.0.0.1:8080:80', want: ['80/tcp'] },
  { name: 'a range with equal ends is one port', spec: '90-90', want: ['90/tcp'] },
];
for (const c of ok) test(`EXPOSE ${c.spec}: ${c.name}`, () => assert.deepEqual(exposedPorts([c.spec]), c.want));

const bad = [
  { spec: 'abc', message: 'invalid containerPort: abc' },
  { spec: '70000', message: 'invalid containerPort: 70000' },
  { spec: '90-80', message: 'invalid containerPort: 90-80' },
  { spec: '/tcp', message: 'invalid port: "/tcp": no port specified' },
  { spec: '80/icmp', message: 'invalid port: "80/icmp": invalid proto: icmp' },
  { spec: 'x:80', message: 'invalid hostPort: x' },
  { spec: '1.2.3.999:80:80', message: 'invalid IP address: 1.2.3.999' },
];
for (const c of bad)
  test(`EXPOSE ${c.spec} is refused with BuildKit's message`, () =>
    assert.throws(() => exposedPorts([c.spec]), (e: unknown) => e instanceof UserError && e.code === 'bad-port' && e.message === c.message));
