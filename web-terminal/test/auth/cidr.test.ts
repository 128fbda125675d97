import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLoopbackHost, isValidCidr, normalizeAddress, parseAddressRanges } from '../../src/auth/cidr.ts';

describe('address ranges for trusted proxies', () => {
  it('matches IPv4 ranges and single addresses', () => {
    const ranges = parseAddressRanges(['10.42.0.0/16', '192.168.1.7']);
    assert.equal(ranges.contains('10.42.3.4'), true);
    assert.equal(ranges.contains('10.43.0.1'), false);
    assert.equal(ranges.contains('192.168.1.7'), true);
    assert.equal(ranges.contains('192.168.1.8'), false);
  });

  it('matches IPv4-mapped IPv6 peers (dual-stack listeners) against IPv4 ranges', () => {
    const ranges = parseAddressRanges(['10.42.0.0/16']);
    assert.equal(ranges.contains('::ffff:10.42.0.9'), true);
    assert.equal(ranges.contains('::FFFF:10.42.0.9'), true);
    assert.equal(ranges.contains('::ffff:10.99.0.9'), false);
  });

  it('treats a mapped range as the IPv4 range it spells', () => {
    const ranges = parseAddressRanges(['::ffff:10.0.0.0/104']);
    assert.equal(ranges.contains('10.1.2.3'), true);
    assert.equal(ranges.contains('11.1.2.3'), false);
  });

  it('matches IPv6 ranges', () => {
    const ranges = parseAddressRanges(['fd00:10::/64', '::1/128']);
    assert.equal(ranges.contains('fd00:10::abcd'), true);
    assert.equal(ranges.contains('fd00:11::1'), false);
    assert.equal(ranges.contains('::1'), true);
    assert.equal(ranges.contains('127.0.0.1'), false);
  });

  it('never contains missing or garbage addresses', () => {
    const ranges = parseAddressRanges(['0.0.0.0/0', '::/0']);
    assert.equal(ranges.contains(undefined), false);
    assert.equal(ranges.contains(''), false);
    assert.equal(ranges.contains('not-an-ip'), false);
    assert.equal(ranges.contains('1.2.3.4'), true);
  });

  it('validates CIDR text', () => {
    for (const ok of ['10.0.0.0/8', '10.0.0.1', '::1', 'fd00::/8', '::ffff:10.0.0.0/104', '0.0.0.0/0']) assert.equal(isValidCidr(ok), true, ok);
    for (const bad of ['10.0.0.0/33', '10.0.0/8', 'fd00::/129', 'example.com', '10.0.0.0/8/1', '10.0.0.0/-1', '10.0.0.0/a', '']) {
      assert.equal(isValidCidr(bad), false, bad);
    }
    assert.throws(() => parseAddressRanges(['10.0.0.0/33']), /not an IP address or CIDR range/);
  });

  it('normalizes mapped addresses and zone ids', () => {
    assert.equal(normalizeAddress('::ffff:127.0.0.1'), '127.0.0.1');
    assert.equal(normalizeAddress('fe80::1%eth0'), 'fe80::1');
  });

  it('knows loopback listen addresses', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) assert.equal(isLoopbackHost(host), true, host);
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'example.com', '192.168.0.1']) assert.equal(isLoopbackHost(host), false, host);
  });
});
