// JWT verification (src/authn/token.ts) and the access check (access.ts): signatures (HS*, RS*), the
// algorithms refused (none, HS with only a public key configured), expiry in both of AuthN's forms,
// malformed tokens, and how admin, bucket and cluster ACLs decide.
import test from 'ava';
import { createSign, generateKeyPairSync } from 'node:crypto';
import { signToken, verifyToken, TokenError, type Token } from '../src/authn/token';
import { Ace, ACCESS_RO, ACCESS_RW, allowed } from '../src/authn/access';

const SECRET = 'a-secret-of-the-cluster';
const KEYS = { secret: SECRET, publicKey: '' };
const NOW = Date.UTC(2026, 11, 7, 12);
const exp = (sFromNow: number): number => Math.floor(NOW / 1000) + sFromNow;

function reason(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (err instanceof TokenError) return err.reason;
    throw err;
  }
}

const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');

test('an HS256 token round-trips its claims', (t) => {
  const jwt = signToken({ username: 'alice', exp: exp(60), admin: true, buckets: [{ bck: { name: 'data', provider: 'ais' }, perm: String(ACCESS_RO) }] }, SECRET);
  const tok = verifyToken(jwt, KEYS, NOW);
  t.is(tok.user, 'alice');
  t.true(tok.admin);
  t.is(tok.expires, exp(60) * 1000);
  t.deepEqual(tok.buckets, [{ name: 'data', provider: 'ais', perm: ACCESS_RO }]);
  t.is(verifyToken(signToken({ sub: 'bob', exp: exp(60) }, SECRET, 'HS512'), KEYS, NOW).user, 'bob');
});

test('a wrong secret, a changed payload or a cut signature is invalid', (t) => {
  const jwt = signToken({ username: 'alice', exp: exp(60) }, SECRET);
  t.is(reason(() => verifyToken(jwt, { secret: 'other', publicKey: '' }, NOW)), 'invalid');
  const [h, , s] = jwt.split('.');
  t.is(reason(() => verifyToken(`${h}.${b64({ username: 'alice', exp: exp(60), admin: true })}.${s}`, KEYS, NOW)), 'invalid');
  t.is(reason(() => verifyToken(jwt.slice(0, -2), KEYS, NOW)), 'invalid');
  for (const bad of ['', 'abc', 'a.b', 'a.b.c.d', '!!.e30.x', `${h}..${s}`, `${b64('x')}.${b64({})}.`]) t.is(reason(() => verifyToken(bad, KEYS, NOW)), 'invalid', bad);
});

test('alg none and unknown algorithms are refused', (t) => {
  const claims = b64({ username: 'eve', admin: true, exp: exp(60) });
  t.is(reason(() => verifyToken(`${b64({ alg: 'none', typ: 'JWT' })}.${claims}.`, KEYS, NOW)), 'invalid');
  t.is(reason(() => verifyToken(`${b64({ alg: 'ES256' })}.${claims}.AAAA`, KEYS, NOW)), 'invalid');
  t.is(reason(() => verifyToken(`${b64({ typ: 'JWT' })}.${claims}.AAAA`, KEYS, NOW)), 'invalid');
});

test('RS256 verifies with the public key, and an HS256 token made with that key as secret does not', (t) => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const body = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ username: 'carol', exp: exp(60) })}`;
  const sig = createSign('sha256').update(body).sign(privateKey).toString('base64url');
  const keys = { secret: '', publicKey: pem };
  t.is(verifyToken(`${body}.${sig}`, keys, NOW).user, 'carol');
  t.is(reason(() => verifyToken(`${body}.${sig.slice(0, -4)}AAAA`, keys, NOW)), 'invalid');
  // The classic confusion: the attacker signs HS256 with the (public) PEM as the HMAC secret.
  t.is(reason(() => verifyToken(signToken({ username: 'eve', admin: true, exp: exp(60) }, pem), keys, NOW)), 'invalid');
  // And an RS256 token is not accepted by a cluster that only has a secret.
  t.is(reason(() => verifyToken(`${body}.${sig}`, KEYS, NOW)), 'invalid');
});

test('expiry: exp (seconds) and AuthN\'s "expires" (RFC 3339); none means no expiry', (t) => {
  t.is(reason(() => verifyToken(signToken({ username: 'a', exp: exp(-1) }, SECRET), KEYS, NOW)), 'expired');
  t.is(reason(() => verifyToken(signToken({ username: 'a', expires: new Date(NOW - 1000).toISOString() }, SECRET), KEYS, NOW)), 'expired');
  t.is(verifyToken(signToken({ username: 'a', expires: new Date(NOW + 1000).toISOString() }, SECRET), KEYS, NOW).expires, NOW + 1000);
  t.is(verifyToken(signToken({ username: 'a' }, SECRET), KEYS, NOW).expires, Infinity);
  t.is(reason(() => verifyToken(signToken({ username: 'a', expires: 'tomorrow' }, SECRET), KEYS, NOW)), 'invalid');
  t.is(reason(() => verifyToken(signToken({ username: 'a', exp: '123' }, SECRET), KEYS, NOW)), 'invalid');
  t.is(reason(() => verifyToken(signToken({ username: 'a', nbf: exp(3600) }, SECRET), KEYS, NOW)), 'invalid');
});

test('ACL claims of the wrong shape are invalid; perm may be a string or a number', (t) => {
  t.is(reason(() => verifyToken(signToken({ username: 'a', clusters: { id: '' } }, SECRET), KEYS, NOW)), 'invalid');
  t.is(reason(() => verifyToken(signToken({ username: 'a', clusters: [{ id: '', perm: 'all' }] }, SECRET), KEYS, NOW)), 'invalid');
  t.is(verifyToken(signToken({ username: 'a', clusters: [{ id: '', perm: 7 }] }, SECRET), KEYS, NOW).clusters[0]!.perm, 7n);
  t.is(verifyToken(signToken({ username: 'a', clusters: [{ id: 'x', perm: '18446744073709551615' }] }, SECRET), KEYS, NOW).clusters[0]!.perm, (1n << 64n) - 1n);
});

function tok(p: Partial<Token>): Token {
  return { user: 'u', expires: Infinity, admin: false, clusters: [], buckets: [], ...p };
}

test('allowed: admin, bucket ACL over cluster ACL, this cluster over the default, cluster-only bits', (t) => {
  const data = { name: 'data', provider: 'ais' };
  const other = { name: 'other', provider: 'ais' };
  t.true(allowed(tok({ admin: true }), Ace.ADMIN | Ace.PUT, 'c1', data));
  t.false(allowed(tok({}), Ace.GET, 'c1', data), 'no ACL grants nothing');
  const ro = tok({ buckets: [{ ...data, perm: ACCESS_RO }] });
  t.true(allowed(ro, Ace.GET, 'c1', data));
  t.false(allowed(ro, Ace.PUT, 'c1', data));
  t.false(allowed(ro, Ace.GET, 'c1', other));
  t.false(allowed(ro, Ace.GET, 'c1', { name: 'data', provider: 'aws' }), 's3://data is another bucket');
  t.false(allowed(ro, Ace.LIST_BUCKETS, 'c1'), 'a bucket ACL grants no cluster bits');
  const clu = tok({ clusters: [{ id: '', perm: ACCESS_RW }], buckets: [{ ...data, perm: ACCESS_RO }] });
  t.true(allowed(clu, Ace.PUT, 'c1', other), 'the default cluster ACL covers other buckets');
  t.false(allowed(clu, Ace.PUT, 'c1', data), "the bucket's own ACL wins over the cluster's");
  t.true(allowed(clu, Ace.LIST_BUCKETS, 'c1'));
  t.false(allowed(clu, Ace.CREATE_BUCKET, 'c1'));
  const mine = tok({ clusters: [{ id: 'c2', perm: ACCESS_RO }, { id: '', perm: ACCESS_RW }] });
  t.false(allowed(mine, Ace.PUT, 'c2', other), "this cluster's ACL before the default");
  t.true(allowed(mine, Ace.PUT, 'c1', other));
  t.true(allowed(tok({ buckets: [{ ...data, perm: ACCESS_RO }] }), 0n, 'c1'), 'nothing needed: any valid token');
});
