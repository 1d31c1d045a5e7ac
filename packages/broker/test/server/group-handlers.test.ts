// The group handlers report a member's host as Kafka does ('/' + the address, no port) for every
// peer format gRPC hands over (IPv4, bracketed IPv6, with or without the ipv4:/ipv6: scheme).

import { clientHostOf } from '../../src/server/group-handlers.js';

test('clientHostOf strips the port and scheme and keeps the address, IPv6 included', () => {
  expect(clientHostOf('127.0.0.1:54321')).toBe('/127.0.0.1');
  expect(clientHostOf('ipv4:10.0.0.7:9092')).toBe('/10.0.0.7');
  expect(clientHostOf('[::1]:54321')).toBe('/::1');
  expect(clientHostOf('ipv6:[fe80::1]:1')).toBe('/fe80::1');
  expect(clientHostOf('unix:/tmp/sock')).toBe('/unix:/tmp/sock');
});
