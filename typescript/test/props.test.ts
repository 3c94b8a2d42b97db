/**
 * Props → template and props → the rustlambda command: runtime, handler, architecture,
 * lambda.Function options passed through, layers, packageManagerType, features, logLevel,
 * extraBuildArgs (rustlambda's flags vs cargo's), target, and the construct-time errors.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import {
  buildArgs,
  BundlingOptions,
  LogLevel,
  PackageManagerType,
  RUSTLAMBDA_VERSION,
  RustExtension,
  RustFunction,
  splitBuildArgs,
} from 'rustlambda-cdk';
import { skippedStack, tempDir, writeWorkspace } from './helpers';

const ARM = Architecture.ARM_64;

function workspace(): string {
  const root = tempDir();
  writeWorkspace(root, [
    { dir: 'greet', name: 'greet' },
    { dir: 'ext', name: 'ext', bins: ['probe'] },
  ]);
  return root;
}

function localArgv(fn: RustFunction | RustExtension): string[] {
  return (fn.bundlingOptions.local as unknown as { argv: string[] }).argv;
}

function argvFor(bundling: BundlingOptions, architecture = Architecture.X86_64): string[] {
  const fn = new RustFunction(skippedStack(), 'F', {
    entry: workspace(),
    binaryName: 'greet',
    architecture,
    bundling,
  });
  return localArgv(fn);
}

test('template: provided.al2023, handler bootstrap, Architectures, Function props passed', () => {
  const root = workspace();
  const stack = skippedStack();
  new RustFunction(stack, 'X86', {
    entry: root,
    binaryName: 'greet',
    memorySize: 256,
    timeout: Duration.seconds(5),
    environment: { LOG_LEVEL: 'info' },
    description: 'greets',
  });
  new RustFunction(stack, 'Arm', { entry: root, binaryName: 'greet', architecture: ARM });
  const template = Template.fromStack(stack);
  template.hasResourceProperties('AWS::Lambda::Function', {
    Runtime: 'provided.al2023',
    Handler: 'bootstrap',
    Architectures: ['x86_64'],
    MemorySize: 256,
    Timeout: 5,
    Environment: { Variables: { LOG_LEVEL: 'info' } },
    Description: 'greets',
  });
  template.hasResourceProperties('AWS::Lambda::Function', {
    Runtime: 'provided.al2023',
    Handler: 'bootstrap',
    Architectures: ['arm64'],
  });
});

test('provided.al2 is allowed and pins its glibc; other runtimes are refused', () => {
  const root = workspace();
  const stack = skippedStack();
  const al2 = new RustFunction(stack, 'Al2', {
    entry: root,
    binaryName: 'greet',
    runtime: Runtime.PROVIDED_AL2,
  });
  const argv = localArgv(al2);
  assert.equal(argv[argv.indexOf('--runtime') + 1], 'provided.al2');
  Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
    Runtime: 'provided.al2',
  });
  for (const runtime of [Runtime.NODEJS_20_X, Runtime.PROVIDED]) {
    assert.throws(
      () => new RustFunction(skippedStack(), 'F', { entry: root, binaryName: 'greet', runtime }),
      (error: Error) =>
        error.message.includes(`runtime ${runtime.name} is not an OS-only custom runtime`) &&
        error.message.includes('fix: drop runtime'),
    );
  }
});

test('code and handler cannot be passed (from JavaScript)', () => {
  for (const reserved of ['code', 'handler']) {
    const props = { entry: workspace(), binaryName: 'greet', [reserved]: 'x' };
    assert.throws(
      () => new RustFunction(skippedStack(), 'F', props as object),
      new RegExp(`${reserved} is set by RustFunction`),
    );
  }
});

test('RustExtension: a layer for its architecture and the runtimes its glibc runs on', () => {
  const root = workspace();
  const stack = skippedStack();
  const probe = { entry: root, binaryName: 'probe' };
  const ext = new RustExtension(stack, 'Ext', { ...probe, architecture: ARM });
  new RustExtension(stack, 'Al2', { ...probe, runtime: Runtime.PROVIDED_AL2 });
  new RustFunction(stack, 'F', {
    entry: root,
    binaryName: 'greet',
    architecture: ARM,
    layers: [ext],
  });
  const template = Template.fromStack(stack);
  template.hasResourceProperties('AWS::Lambda::LayerVersion', {
    CompatibleArchitectures: ['arm64'],
    CompatibleRuntimes: ['provided.al2023'],
  });
  template.hasResourceProperties('AWS::Lambda::LayerVersion', {
    CompatibleArchitectures: ['x86_64'],
    CompatibleRuntimes: ['provided.al2', 'provided.al2023'],
  });
  const layers = template.findResources('AWS::Lambda::LayerVersion');
  const extId = Object.keys(layers).find((id) => id.startsWith('Ext'));
  template.hasResourceProperties('AWS::Lambda::Function', { Layers: [{ Ref: extId }] });
});

test('the local build: the whole workspace, one target, JSON out, release', () => {
  const argv = argvFor({}, ARM);
  assert.deepEqual(argv.slice(0, 3), ['build', '--json', '--workspace']);
  assert.equal(argv[argv.indexOf('--target') + 1], 'aarch64-unknown-linux-gnu');
  assert.equal(argv[argv.indexOf('--runtime') + 1], 'provided.al2023');
  assert.ok(argv.includes('--release'));
  const lambdaDir = argv[argv.indexOf('--lambda-dir') + 1];
  assert.match(lambdaDir, /[\\/]target[\\/]lambda-cdk[\\/][0-9a-f]{12}$/);
  assert.ok(!argv.includes('--compiler'), 'no compiler flag: Cargo.toml metadata may choose');
  assert.ok(!argv.includes('--'));
});

test('packageManagerType maps to rustlambda --compiler', () => {
  const cases: [PackageManagerType, string][] = [
    [PackageManagerType.CARGO_ZIGBUILD, 'zig'],
    [PackageManagerType.CROSS, 'cross'],
    [PackageManagerType.CARGO, 'cargo'],
  ];
  for (const [type, compiler] of cases) {
    const argv = argvFor({ packageManagerType: type });
    assert.equal(argv[argv.indexOf('--compiler') + 1], compiler);
  }
  assert.equal(PackageManagerType.CARGO_ZIGBUILD, 0); // the seed's numeric values
  assert.equal(PackageManagerType.CROSS, 1);
});

test('features and logLevel', () => {
  const argv = argvFor({ features: ['a', 'b'], logLevel: LogLevel.VERBOSE });
  assert.equal(argv[argv.indexOf('--features') + 1], 'a,b');
  assert.ok(argv.includes('-v'));
  assert.ok(argvFor({ logLevel: LogLevel.SILENT }).includes('-q'));
});

test("extraBuildArgs: rustlambda's own flags before --, cargo's after it, in order", () => {
  const split = splitBuildArgs(
    ['--all-features', '--config', 'net.offline=true', '--locked', '-j2', '--timings', '-Zx'],
    'F',
  );
  assert.deepEqual(split.rustlambda, ['--all-features', '--locked', '-j2']);
  assert.deepEqual(split.cargo, ['--config', 'net.offline=true', '--timings', '-Zx']);
  assert.deepEqual(splitBuildArgs(['--profile', 'lambda', '-F', 'x', '--', '--locked'], 'F'), {
    rustlambda: ['--profile', 'lambda', '-F', 'x'],
    cargo: ['--locked'],
  });
  const argv = argvFor({ extraBuildArgs: ['--all-features', '--config', 'k="v"'] });
  assert.deepEqual(argv.slice(argv.indexOf('--')), ['--', '--config', 'k="v"']);
  assert.ok(argv.indexOf('--all-features') < argv.indexOf('--'));
});

test('--profile in extraBuildArgs replaces --release', () => {
  const argv = argvFor({ extraBuildArgs: ['--profile=lambda'] });
  assert.ok(!argv.includes('--release'));
  assert.ok(argv.includes('--profile=lambda'));
});

test('extraBuildArgs may not set what the construct decides', () => {
  for (const flag of ['--bin', '--target', '--arm64', '--manifest-path', '--runtime', '-p']) {
    assert.throws(
      () => argvFor({ extraBuildArgs: [flag, 'x'] }),
      (error: Error) =>
        error.message.includes(`may not contain ${flag}`) && error.message.includes('fix: use '),
    );
  }
});

test('bundling.target must agree with the architecture; a glibc suffix is kept', () => {
  assert.throws(
    () => argvFor({ target: 'aarch64-unknown-linux-gnu' }, Architecture.X86_64),
    /bundling.target aarch64-unknown-linux-gnu is not for the architecture x86_64/,
  );
  const argv = argvFor({ target: 'aarch64-unknown-linux-gnu.2.26' }, ARM);
  assert.equal(argv[argv.indexOf('--target') + 1], 'aarch64-unknown-linux-gnu.2.26');
});

test('buildArgs selects one binary without JSON for Docker', () => {
  const argv = buildArgs(
    {
      manifest: '/asset-input/Cargo.toml',
      target: 'x86_64-unknown-linux-gnu',
      runtime: 'provided.al2023',
      lambdaDir: '/tmp/l',
      binary: 'greet',
      targetDir: '/tmp/t',
    },
    'F',
  );
  assert.deepEqual(argv.slice(0, 3), ['build', '--bin', 'greet']);
  assert.ok(!argv.includes('--json') && !argv.includes('--workspace'));
  assert.equal(argv[argv.indexOf('--target-dir') + 1], '/tmp/t');
});

test('the rustlambda version Docker bundling installs is this repository’s', () => {
  const pyproject = fs.readFileSync(path.resolve(__dirname, '../../../pyproject.toml'), 'utf8');
  assert.equal(RUSTLAMBDA_VERSION, /^version = "([^"]+)"/m.exec(pyproject)?.[1]);
});
