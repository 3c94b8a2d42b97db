/**
 * Which Cargo.toml and binary a construct takes: the seed's entry lookup (file, directory,
 * `defining-file.id/Cargo.toml`), the seed's workspace example (binaryName and no entry: the
 * nearest workspace above the defining file that has the binary) and the errors. Workspaces are
 * read by the real `cargo metadata`; nothing is built.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { RustExtension, RustFunction } from 'rustlambda-cdk';
import {
  definingModule,
  skippedStack,
  tempDir,
  writePackage,
  writeWorkspace,
} from './helpers';

/** The Cargo.toml local bundling builds (the workspace's), from the argv CDK would run. */
function builtManifest(construct: RustFunction | RustExtension): string {
  const argv = (construct.bundlingOptions.local as unknown as { argv: string[] }).argv;
  return argv[argv.indexOf('--manifest-path') + 1];
}

function seedWorkspace(): string {
  const root = tempDir();
  writeWorkspace(root, [
    { dir: 'my_lambda_1', name: 'my_lambda_1' },
    { dir: 'my_lambda_2', name: 'my_lambda_2' },
  ]);
  return root;
}

test('entry is a Cargo.toml or the directory holding it', () => {
  const root = tempDir();
  const manifest = writePackage(root, { dir: 'my_function', name: 'my_function' });
  for (const entry of [manifest, path.dirname(manifest)]) {
    const fn = new RustFunction(skippedStack(), 'F', { entry });
    assert.equal(fn.binaryName, 'my_function');
    assert.equal(builtManifest(fn), manifest);
  }
});

test('an entry that does not exist names the path it looked at', () => {
  const missing = path.join(tempDir(), 'nowhere');
  assert.throws(
    () => new RustFunction(skippedStack(), 'F', { entry: missing }),
    (error: Error) =>
      error.message.includes(`Cannot find manifest file at ${missing}/Cargo.toml`) &&
      error.message.includes('\nfix: '),
  );
});

test('no entry: defining-file.id/Cargo.toml next to the file that defines the construct', () => {
  const dir = tempDir();
  writePackage(dir, { dir: 'stack.my_function', name: 'my_function' });
  const define = definingModule(dir, 'stack.js');
  const fn = define(RustFunction, skippedStack(), 'my_function') as RustFunction;
  assert.equal(fn.binaryName, 'my_function');
  assert.equal(builtManifest(fn), path.join(dir, 'stack.my_function', 'Cargo.toml'));
});

test('no entry and no defining-file.id crate: the error names the path and the fixes', () => {
  const dir = tempDir();
  const define = definingModule(dir, 'stack.js');
  assert.throws(
    () => define(RustFunction, skippedStack(), 'nothing_here'),
    (error: Error) =>
      error.message.includes(path.join(dir, 'stack.nothing_here', 'Cargo.toml')) &&
      error.message.includes('fix: pass entry') &&
      error.message.includes('binaryName'),
  );
});

test("the seed's workspace example works: binaryName and no entry", () => {
  const root = seedWorkspace();
  // the construct file in the workspace root (the seed's layout) or in a folder below it
  for (const dir of [root, path.join(root, 'infra', 'lib')]) {
    const define = definingModule(dir, 'my-construct.js');
    const stack = skippedStack();
    const first = define(RustFunction, stack, 'FirstFunction', {
      binaryName: 'my_lambda_1',
    }) as RustFunction;
    const second = define(RustFunction, stack, 'SecondFunction', {
      binaryName: 'my_lambda_2',
    }) as RustFunction;
    assert.equal(first.binaryName, 'my_lambda_1');
    assert.equal(second.binaryName, 'my_lambda_2');
    assert.equal(builtManifest(first), path.join(root, 'Cargo.toml'));
    assert.equal(builtManifest(second), path.join(root, 'Cargo.toml'));
  }
});

test('the nearest workspace that has the binary wins; nearer ones without it are passed', () => {
  const outer = seedWorkspace();
  const inner = path.join(outer, 'tools');
  writeWorkspace(inner, [{ dir: 'helper', name: 'helper' }]);
  const define = definingModule(path.join(inner, 'infra'), 'stack.js');
  const fromOuter = define(RustFunction, skippedStack(), 'F', {
    binaryName: 'my_lambda_2',
  }) as RustFunction;
  assert.equal(builtManifest(fromOuter), path.join(outer, 'Cargo.toml'));
  const fromInner = define(RustFunction, skippedStack(), 'G', {
    binaryName: 'helper',
  }) as RustFunction;
  assert.equal(builtManifest(fromInner), path.join(inner, 'Cargo.toml'));
});

test('a binary name two packages of the workspace have: the error names both', () => {
  const root = tempDir();
  writeWorkspace(root, [
    { dir: 'one', name: 'one', bins: ['handler'] },
    { dir: 'two', name: 'two', bins: ['handler'] },
  ]);
  const define = definingModule(path.join(root, 'infra'), 'stack.js');
  assert.throws(
    () => define(RustFunction, skippedStack(), 'F', { binaryName: 'handler' }),
    (error: Error) =>
      /several binaries named handler/.test(error.message) &&
      error.message.includes(`one (${path.join(root, 'one', 'Cargo.toml')})`) &&
      error.message.includes(`two (${path.join(root, 'two', 'Cargo.toml')})`) &&
      error.message.includes('fix: pass entry'),
  );
});

test('no workspace above has the binary: the error says what was found', () => {
  const root = seedWorkspace();
  const define = definingModule(path.join(root, 'infra'), 'stack.js');
  assert.throws(
    () => define(RustFunction, skippedStack(), 'F', { binaryName: 'nope' }),
    (error: Error) =>
      error.message.includes('has a binary named nope') &&
      error.message.includes(`found: ${root} (my_lambda_1, my_lambda_2)`),
  );
});

test('a workspace entry without binaryName lists the binaries', () => {
  const root = seedWorkspace();
  assert.throws(
    () => new RustFunction(skippedStack(), 'F', { entry: root }),
    (error: Error) =>
      error.message.includes('no binaryName says which') &&
      error.message.includes('fix: pass binaryName one of: my_lambda_1, my_lambda_2'),
  );
});

test('an unknown binaryName lists the binaries', () => {
  const root = seedWorkspace();
  assert.throws(
    () => new RustFunction(skippedStack(), 'F', { entry: root, binaryName: 'my_lambda_3' }),
    (error: Error) =>
      error.message.includes('no binary named my_lambda_3') &&
      error.message.includes('one of: my_lambda_1, my_lambda_2'),
  );
});

test("a member crate as entry: its own binary, the whole workspace as the build's input", () => {
  const root = seedWorkspace();
  const fn = new RustFunction(skippedStack(), 'F', { entry: path.join(root, 'my_lambda_2') });
  assert.equal(fn.binaryName, 'my_lambda_2');
  assert.equal(builtManifest(fn), path.join(root, 'Cargo.toml'));
});

test('RustExtension looks its entry up the same way', () => {
  const root = tempDir();
  writeWorkspace(root, [{ dir: 'ext', name: 'ext', bins: ['my-extension'] }]);
  const define = definingModule(root, 'stack.js');
  const ext = define(RustExtension, skippedStack(), 'Ext', {
    binaryName: 'my-extension',
  }) as RustExtension;
  assert.equal(ext.binaryName, 'my-extension');
  assert.equal(builtManifest(ext), path.join(root, 'Cargo.toml'));
});
