/**
 * Docker bundling. There is no Docker engine on the machines these tests run on: they check the
 * bundling options and script CDK receives, and the docker argv CDK runs through a fake docker
 * CLI (`CDK_DOCKER`) that logs it. A missing rustlambda: Docker when it answers, else one error.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { DockerImage } from 'aws-cdk-lib';
import { Architecture } from 'aws-cdk-lib/aws-lambda';
import {
  DEFAULT_BASE_IMAGE,
  ICommandHooks,
  PackageManagerType,
  RUSTLAMBDA_VERSION,
  RustExtension,
  RustFunction,
  RustLambdaBundlingImage,
} from 'rustlambda-cdk';
import {
  bundlingStack,
  fakeDocker,
  logged,
  skippedStack,
  tempDir,
  withEnv,
  writeWorkspace,
} from './helpers';

const hooks: ICommandHooks = {
  beforeBundling: (inputDir, outputDir) => [`ls ${inputDir} > ${outputDir}/before.txt`],
  afterBundling: (_inputDir, outputDir) => [`echo after > ${outputDir}/after.txt`],
};

function workspace(): string {
  const root = tempDir();
  writeWorkspace(root, [
    { dir: 'greet', name: 'greet' },
    { dir: 'ext', name: 'ext', bins: ['probe'] },
  ]);
  return root;
}

function script(fn: RustFunction | RustExtension): string {
  const command = fn.bundlingOptions.command ?? [];
  assert.deepEqual(command.slice(0, 2), ['bash', '-c']);
  return command[2];
}

test('forced Docker bundling: the image, options and script CDK receives', () => {
  const fn = new RustFunction(skippedStack(), 'F', {
    entry: workspace(),
    binaryName: 'greet',
    architecture: Architecture.ARM_64,
    bundling: {
      forceDockerBundling: true,
      packageManagerType: PackageManagerType.CROSS,
      extraBuildArgs: ['--all-features', '--config', 'k=v'],
      environment: { HELLO: 'world' },
      commandHooks: hooks,
      network: 'host',
      securityOpt: 'no-new-privileges',
      user: 'user:group',
      volumesFrom: ['777f7dc92da7'],
      volumes: [{ hostPath: '/host-path', containerPath: '/container-path' }],
      buildArgs: { EXTRA: '1' },
    },
  });
  const options = fn.bundlingOptions;
  assert.equal(options.local, undefined, 'forced: no local bundling at all');
  assert.ok(options.image instanceof RustLambdaBundlingImage);
  assert.deepEqual((options.image as RustLambdaBundlingImage).buildOptions, {
    buildArgs: {
      IMAGE: DEFAULT_BASE_IMAGE,
      RUSTLAMBDA_SPEC: `rustlambda==${RUSTLAMBDA_VERSION}`,
      EXTRA: '1',
    },
    platform: 'linux/arm64',
  });
  const dockerfileDir = (options.image as RustLambdaBundlingImage).directory;
  assert.ok(fs.existsSync(path.join(dockerfileDir, 'Dockerfile')));
  assert.deepEqual(options.environment, { HELLO: 'world' });
  assert.equal(options.network, 'host');
  assert.equal(options.securityOpt, 'no-new-privileges');
  assert.equal(options.user, 'user:group');
  assert.deepEqual(options.volumesFrom, ['777f7dc92da7']);
  assert.equal(options.platform, 'linux/arm64');
  assert.equal(options.workingDirectory, '/asset-input');
  const mounts = (options.volumes ?? []).map((v) => v.containerPath);
  assert.deepEqual(mounts, [
    '/usr/local/cargo/registry',
    '/usr/local/cargo/git',
    '/container-path',
  ]);

  const text = script(fn);
  assert.ok(
    text.startsWith(
      'ls /asset-input > /asset-output/before.txt && ' +
        'if ! command -v rustlambda >/dev/null 2>&1; then',
    ),
    'the before hook first, then rustlambda installed if the image lacks it',
  );
  assert.ok(
    text.includes(
      `pip install --quiet rustlambda==${RUSTLAMBDA_VERSION} && ` +
        'export PATH=/tmp/rustlambda-venv/bin:$PATH; fi && rustlambda build ',
    ),
  );
  const build = (/&& (rustlambda build [^&]*) &&/.exec(text)?.[1] ?? '').trim().split(' ');
  assert.deepEqual(build.slice(0, 4), ['rustlambda', 'build', '--bin', 'greet']);
  for (const [flag, value] of [
    ['--manifest-path', '/asset-input/Cargo.toml'],
    ['--target', 'aarch64-unknown-linux-gnu'],
    ['--runtime', 'provided.al2023'],
    ['--compiler', 'cross'],
  ]) {
    assert.equal(build[build.indexOf(flag) + 1], value, flag);
  }
  assert.ok(build.includes('--release') && build.includes('--all-features'));
  assert.deepEqual(build.slice(build.indexOf('--')), ['--', '--config', 'k=v']);
  assert.ok(
    text.endsWith(
      ' && mkdir -p /asset-output' +
        ' && cp /tmp/rustlambda-lambda/greet/bootstrap /asset-output/bootstrap' +
        ' && chmod 755 /asset-output/bootstrap' +
        ' && echo after > /asset-output/after.txt',
    ),
    'the binary copied into the asset, then the after hook',
  );
});

test('an extension lands at extensions/<name>; projectRoot above the workspace is mounted', () => {
  const parent = tempDir();
  const root = path.join(parent, 'rust');
  writeWorkspace(root, [{ dir: 'ext', name: 'ext', bins: ['probe'] }]);
  const ext = new RustExtension(skippedStack(), 'E', {
    entry: root,
    binaryName: 'probe',
    projectRoot: parent,
    bundling: { forceDockerBundling: true, commandHooks: hooks },
  });
  const text = script(ext);
  assert.ok(text.startsWith('ls /asset-input/rust > /asset-output/before.txt && '));
  assert.ok(text.includes(' --manifest-path /asset-input/rust/Cargo.toml '));
  assert.ok(
    text.includes(
      ' && mkdir -p /asset-output/extensions' +
        ' && cp /tmp/rustlambda-lambda/probe/bootstrap /asset-output/extensions/probe && ',
    ),
  );
  assert.equal(ext.bundlingOptions.workingDirectory, '/asset-input/rust');
  assert.equal(ext.bundlingOptions.platform, 'linux/amd64');
});

test('projectRoot must contain the workspace', () => {
  assert.throws(
    () =>
      new RustFunction(skippedStack(), 'F', {
        entry: workspace(),
        binaryName: 'greet',
        projectRoot: tempDir(),
      }),
    /does not contain the workspace/,
  );
});

test('dockerImage and command replace the defaults; local bundling stays when not forced', () => {
  const image = DockerImage.fromRegistry('my/rust:latest');
  const fn = new RustFunction(skippedStack(), 'F', {
    entry: workspace(),
    binaryName: 'greet',
    bundling: { dockerImage: image, command: ['make', 'lambda'], entrypoint: ['/bin/sh'] },
  });
  assert.equal(fn.bundlingOptions.image, image);
  assert.deepEqual(fn.bundlingOptions.command, ['make', 'lambda']);
  assert.deepEqual(fn.bundlingOptions.entrypoint, ['/bin/sh']);
  assert.ok(fn.bundlingOptions.local);
});

test('no cargo here: binaryName is needed, the workspace root found by its [workspace]', () => {
  const root = workspace();
  withEnv({ CARGO: undefined, PATH: tempDir() }, () => {
    const ext = new RustExtension(skippedStack(), 'E', {
      entry: path.join(root, 'ext'),
      binaryName: 'probe',
      bundling: { forceDockerBundling: true },
    });
    assert.equal(ext.bundlingOptions.workingDirectory, '/asset-input');
    assert.ok(script(ext).includes(' --manifest-path /asset-input/Cargo.toml '));
    assert.throws(
      () => new RustFunction(skippedStack(), 'F', { entry: path.join(root, 'greet') }),
      /binaryName is needed when cargo is not installed here/,
    );
  });
});

test('the docker commands CDK runs for forced Docker bundling (fake docker CLI)', () => {
  const dir = tempDir();
  const log = path.join(dir, 'docker.log');
  const docker = fakeDocker(dir, log, true);
  const { app, stack } = bundlingStack(path.join(dir, 'out'));
  withEnv({ CDK_DOCKER: docker }, () => {
    new RustFunction(stack, 'F', {
      entry: workspace(),
      binaryName: 'greet',
      architecture: Architecture.ARM_64,
      bundling: {
        forceDockerBundling: true,
        environment: { HELLO: 'world' },
        network: 'host',
        securityOpt: 'no-new-privileges',
        user: '1000:1000',
        volumesFrom: ['777f7dc92da7'],
        volumes: [{ hostPath: '/host-path', containerPath: '/container-path' }],
      },
    });
  });
  const calls = logged(log);
  const build = calls.find((argv) => argv[0] === 'build');
  assert.ok(build, JSON.stringify(calls));
  const tag = build[build.indexOf('-t') + 1];
  assert.match(tag, /^cdk-[0-9a-f]+$/);
  assert.equal(build[build.indexOf('--platform') + 1], 'linux/arm64');
  assert.ok(build.includes(`IMAGE=${DEFAULT_BASE_IMAGE}`));
  assert.ok(build.includes(`RUSTLAMBDA_SPEC=rustlambda==${RUSTLAMBDA_VERSION}`));
  assert.match(build[build.length - 1], /[\\/]docker$/);
  const run = calls.find((argv) => argv[0] === 'run');
  assert.ok(run, JSON.stringify(calls));
  const joined = run.join(' ');
  for (const part of [
    '--security-opt no-new-privileges',
    '--network host',
    '--platform linux/arm64',
    '-u 1000:1000',
    '--volumes-from 777f7dc92da7',
    '-v /host-path:/container-path:delegated',
    '--env HELLO=world',
    `-w /asset-input ${tag} bash -c `,
  ]) {
    assert.ok(joined.includes(part), `${part} in ${joined}`);
  }
  const assembly = app.synth();
  const [asset] = fs.readdirSync(assembly.directory).filter((f) => f.startsWith('asset.'));
  const bootstrap = path.join(assembly.directory, asset, 'bootstrap');
  assert.equal(fs.readFileSync(bootstrap, 'utf8'), 'built in docker\n');
});

test('no rustlambda and no Docker engine: one error, with the install command', () => {
  const dir = tempDir();
  const docker = fakeDocker(dir, path.join(dir, 'docker.log'), false);
  const cargo = process.env.CARGO ?? 'cargo';
  const cases: [{ [key: string]: string | undefined }, string][] = [
    [
      { RUSTLAMBDA: '/nonexistent/rustlambda' },
      'RUSTLAMBDA=/nonexistent/rustlambda does not exist',
    ],
    [{ RUSTLAMBDA: undefined, PATH: dir }, 'rustlambda is not on PATH (and RUSTLAMBDA is not set)'],
  ];
  for (const [vars, reason] of cases) {
    const { stack } = bundlingStack(path.join(tempDir(), 'out'));
    const cargoPath = whichCargo(cargo); // not its realpath: rustup's proxies go by their name
    withEnv({ ...vars, CDK_DOCKER: docker, CARGO: cargoPath }, () => {
      assert.throws(
        () => new RustFunction(stack, 'F', { entry: workspace(), binaryName: 'greet' }),
        (error: Error) =>
          error.message.includes(reason) &&
          error.message.includes('no Docker engine answers') &&
          error.message.includes('fix: pip install rustlambda'),
      );
    });
  }
});

test('no rustlambda but a Docker engine: the asset is bundled in Docker', () => {
  const dir = tempDir();
  const log = path.join(dir, 'docker.log');
  const docker = fakeDocker(dir, log, true);
  const { stack } = bundlingStack(path.join(dir, 'out'));
  withEnv({ RUSTLAMBDA: '/nonexistent/rustlambda', CDK_DOCKER: docker }, () => {
    new RustFunction(stack, 'F', { entry: workspace(), binaryName: 'greet' });
  });
  const commands = logged(log).map((argv) => argv[0]);
  assert.deepEqual(commands.filter((c) => c !== 'image'), ['version', 'build', 'run']);
});

function whichCargo(cargo: string): string {
  if (cargo.includes('/')) {
    return cargo;
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && fs.existsSync(path.join(dir, cargo))) {
      return path.join(dir, cargo);
    }
  }
  throw new Error('cargo is needed on PATH to read the test workspaces');
}
