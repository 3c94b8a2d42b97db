/**
 * Local bundling with a fake rustlambda that logs its runs: one build per workspace, target and
 * settings for the whole app, hooks in the seed's order for every asset (a later asset's
 * beforeBundling hook runs before a build that includes its effect), failures readable in the
 * error, output-hashed assets. Real builds of real crates: tests/integration.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { AssetHashType } from 'aws-cdk-lib';
import { Architecture } from 'aws-cdk-lib/aws-lambda';
import { ICommandHooks, RustExtension, RustFunction, rustlambdaBuilds } from 'rustlambda-cdk';
import {
  bundlingStack,
  fakeRustlambda,
  logged,
  tempDir,
  withEnv,
  writeWorkspace,
} from './helpers';

interface Fixture {
  readonly root: string;
  readonly dir: string;
  readonly log: string;
  readonly env: { [key: string]: string };
}

function fixture(): Fixture {
  const dir = tempDir();
  const root = path.join(dir, 'ws');
  writeWorkspace(root, [
    { dir: 'functions/greet', name: 'greet' },
    { dir: 'functions/reverse', name: 'reverse' },
    { dir: 'ext', name: 'ext', bins: ['probe'] },
  ]);
  const log = path.join(dir, 'runs.log');
  const rustlambda = fakeRustlambda(dir, log);
  return { root, dir, log, env: { RUSTLAMBDA: rustlambda, FAKE_BINS: 'greet reverse probe' } };
}

/** Hooks that append `["before"|"after", name, inputDir]` to the log the fake also writes. */
function loggingHooks(name: string, log: string): ICommandHooks {
  return {
    beforeBundling: (inputDir) => [`echo '["before","${name}","${inputDir}"]' >> ${log}`],
    afterBundling: (inputDir, outputDir) => [
      `echo '["after","${name}","${inputDir}"]' >> ${log}`,
      `echo ${name} > ${outputDir}/hooked.txt`,
    ],
  };
}

function assetDir(outdir: string, template: object, logicalPrefix: string): string {
  const resources = (template as { Resources: { [id: string]: { Metadata?: object } } }).Resources;
  // the function or layer itself: its logical id is the construct id and an 8-digit hash
  const pattern = new RegExp(`^${logicalPrefix}[0-9A-F]{8}$`);
  const [id] = Object.keys(resources).filter((k) => pattern.test(k));
  const metadata = resources[id].Metadata as { 'aws:asset:path': string };
  return path.join(outdir, metadata['aws:asset:path']);
}

/** A run of the fake: [target, selection] of its argv. */
function summary(argv: string[]): string {
  return argv[0] === 'build' ? `build ${argv[argv.indexOf('--target') + 1]}` : argv.join(' ');
}

test('one build per workspace and target for the whole app; each asset gets its binary', () => {
  const fx = fixture();
  const outdir = path.join(fx.dir, 'out');
  const { app, stack } = bundlingStack(outdir);
  withEnv(fx.env, () => {
    const ext = new RustExtension(stack, 'Probe', {
      entry: fx.root,
      binaryName: 'probe',
      architecture: Architecture.ARM_64,
    });
    new RustFunction(stack, 'Greet', { entry: fx.root, binaryName: 'greet' });
    new RustFunction(stack, 'Reverse', { entry: path.join(fx.root, 'functions/reverse') });
    new RustFunction(stack, 'GreetArm', {
      entry: fx.root,
      binaryName: 'greet',
      architecture: Architecture.ARM_64,
      layers: [ext],
    });
  });
  const runs = logged(fx.log);
  assert.deepEqual(runs.map(summary), [
    'build aarch64-unknown-linux-gnu',
    'build x86_64-unknown-linux-gnu',
  ]);
  assert.deepEqual(rustlambdaBuilds(app), runs);
  for (const argv of runs) {
    assert.ok(argv.includes('--workspace'));
    assert.equal(argv[argv.indexOf('--manifest-path') + 1], path.join(fx.root, 'Cargo.toml'));
  }
  const template = app.synth().getStackByName('Bundled').template;
  const read = (prefix: string, file: string): string =>
    fs.readFileSync(path.join(assetDir(outdir, template, prefix), file), 'utf8');
  assert.equal(read('Greet', 'bootstrap'), 'fake greet x86_64-unknown-linux-gnu\n');
  assert.equal(read('Reverse', 'bootstrap'), 'fake reverse x86_64-unknown-linux-gnu\n');
  assert.equal(read('GreetArm', 'bootstrap'), 'fake greet aarch64-unknown-linux-gnu\n');
  assert.equal(read('Probe', 'extensions/probe'), 'fake probe aarch64-unknown-linux-gnu\n');
  const mode = fs.statSync(path.join(assetDir(outdir, template, 'Greet'), 'bootstrap')).mode;
  assert.equal(mode & 0o777, 0o755);
});

test('different build settings are different builds', () => {
  const fx = fixture();
  const { stack } = bundlingStack(path.join(fx.dir, 'out'));
  withEnv(fx.env, () => {
    new RustFunction(stack, 'A', { entry: fx.root, binaryName: 'greet' });
    new RustFunction(stack, 'B', {
      entry: fx.root,
      binaryName: 'reverse',
      bundling: { environment: { RUSTFLAGS: '-Cdebuginfo=1' } },
    });
    new RustFunction(stack, 'C', {
      entry: fx.root,
      binaryName: 'reverse',
      bundling: { extraBuildArgs: ['--all-features'] },
    });
  });
  const runs = logged(fx.log);
  assert.equal(runs.length, 3);
  assert.equal(new Set(runs.map((argv) => argv[argv.indexOf('--lambda-dir') + 1])).size, 3);
});

test("hooks run in the seed's order for every asset, inputDir being the workspace root", () => {
  const fx = fixture();
  const { stack } = bundlingStack(path.join(fx.dir, 'out'));
  withEnv(fx.env, () => {
    new RustFunction(stack, 'Greet', {
      entry: path.join(fx.root, 'functions/greet/Cargo.toml'),
      bundling: { commandHooks: loggingHooks('Greet', fx.log) },
    });
    new RustFunction(stack, 'Plain', { entry: fx.root, binaryName: 'probe' });
    new RustFunction(stack, 'Reverse', {
      entry: fx.root,
      binaryName: 'reverse',
      bundling: { commandHooks: loggingHooks('Reverse', fx.log) },
    });
  });
  const events = logged(fx.log).map((line) =>
    line[0] === 'build' ? summary(line) : `${line[0]} ${line[1]} ${line[2]}`,
  );
  // Reverse's beforeBundling hook may change the sources: the build runs again after it
  // (cargo finds nothing to do when nothing changed); Plain, without hooks, shares the first.
  assert.deepEqual(events, [
    `before Greet ${fx.root}`,
    'build x86_64-unknown-linux-gnu',
    `after Greet ${fx.root}`,
    `before Reverse ${fx.root}`,
    'build x86_64-unknown-linux-gnu',
    `after Reverse ${fx.root}`,
  ]);
});

test('a failed build: cargo diagnostics, error and fix lines and the command in the error', () => {
  const fx = fixture();
  const { stack } = bundlingStack(path.join(fx.dir, 'out'));
  withEnv({ ...fx.env, FAKE_FAIL: '1' }, () => {
    assert.throws(
      () => new RustFunction(stack, 'Greet', { entry: fx.root, binaryName: 'greet' }),
      (error: Error) => {
        const text = error.message;
        return (
          text.includes('Failed to bundle asset Bundled/Greet/Code/Stage') &&
          text.includes("RustFunction 'Greet': rustlambda build failed (exit code 12)") &&
          text.includes(`command: ${fx.env.RUSTLAMBDA} build --json --workspace`) &&
          text.includes('error[E0425]: cannot find value `x` in this scope') &&
          text.includes('error: cargo failed (exit code 101) building greet') &&
          text.includes('fix: fix the errors cargo reports above, then build again')
        );
      },
    );
  });
});

test('a failed hook: its command and output in the error', () => {
  const fx = fixture();
  const { stack } = bundlingStack(path.join(fx.dir, 'out'));
  const hooks: ICommandHooks = {
    beforeBundling: () => ['echo generating', 'echo no generator >&2 && false'],
    afterBundling: () => [],
  };
  withEnv(fx.env, () => {
    assert.throws(
      () =>
        new RustFunction(stack, 'Greet', {
          entry: fx.root,
          binaryName: 'greet',
          bundling: { commandHooks: hooks },
        }),
      (error: Error) =>
        error.message.includes('the beforeBundling command hook failed (exit code 1)') &&
        error.message.includes('generating\nno generator') &&
        error.message.includes('fix: fix the command hook'),
    );
  });
  assert.deepEqual(logged(fx.log), [], 'no build after a failed beforeBundling hook');
});

test('assets are hashed from their output by default; assetHash and assetHashType apply', () => {
  const fx = fixture();
  const outdir = path.join(fx.dir, 'out');
  const { app, stack } = bundlingStack(outdir);
  withEnv(fx.env, () => {
    new RustFunction(stack, 'One', { entry: fx.root, binaryName: 'greet' });
    // another build (other settings) of the same binary: same output, same hash
    new RustFunction(stack, 'Two', {
      entry: fx.root,
      binaryName: 'greet',
      bundling: { environment: { UNRELATED: '1' } },
    });
    new RustFunction(stack, 'Custom', {
      entry: fx.root,
      binaryName: 'greet',
      bundling: { assetHash: 'v1' },
    });
    new RustFunction(stack, 'CustomV2', {
      entry: fx.root,
      binaryName: 'greet',
      bundling: { assetHash: 'v2' },
    });
    new RustFunction(stack, 'Source', {
      entry: fx.root,
      binaryName: 'greet',
      bundling: { assetHashType: AssetHashType.SOURCE },
    });
  });
  const template = app.synth().getStackByName('Bundled').template;
  const hash = (prefix: string): string => path.basename(assetDir(outdir, template, prefix));
  assert.equal(hash('One'), hash('Two'));
  // CUSTOM: the given hash decides (CDK mixes it with the bundling options), not the output
  assert.notEqual(hash('Custom'), hash('One'));
  assert.notEqual(hash('Custom'), hash('CustomV2'));
  assert.notEqual(hash('Source'), hash('One'));
});
