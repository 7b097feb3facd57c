import { Option, type Command } from 'commander';
import { CliError, ExitCode, type CliIo } from '../io.js';
import type { CommandModule } from '../program.js';

/** One backend as `trt-refit doctor` reports it. */
export interface DoctorBackend {
  name: string;
  available: boolean;
  /** The (emulated or loaded) TensorRT version, or null when none was found. */
  version: string | null;
  /** Why the backend is unavailable or limited, each with what to do about it. */
  reasons: { cause: string; fix: string }[];
}

/** What `trt-refit doctor --json` prints. */
export interface DoctorReport {
  backends: DoctorBackend[];
}

interface DoctorOptions {
  json?: boolean;
  require?: string[];
  backend?: string;
}

function failure(name: string, module: string, e: unknown): DoctorBackend {
  return {
    name,
    available: false,
    version: null,
    reasons: [{ cause: `${module} could not be used: ${e instanceof Error ? e.message : String(e)}`, fix: `build the workspace (pnpm build) and check that ${module} is installed` }],
  };
}

/** The mock backend: available whenever its package is installed. Imported lazily (a typed import). */
async function probeMock(): Promise<DoctorBackend> {
  try {
    const { createMockBackend } = await import('@trt-refit/mock-backend');
    return { name: 'mock', available: true, version: createMockBackend().tensorrtVersion, reasons: [] };
  } catch (e) {
    return failure('mock', '@trt-refit/mock-backend', e);
  }
}

/** The native backend, probed without loading TensorRT objects. Imported lazily so doctor never needs the addon. */
async function probeNative(env: NodeJS.ProcessEnv): Promise<DoctorBackend> {
  try {
    const { probeNativeBackend } = await import('@trt-refit/native-backend');
    const r = probeNativeBackend({ env });
    return { name: 'native', available: r.available, version: r.version, reasons: r.reasons.map(({ cause, fix }) => ({ cause, fix })) };
  } catch (e) {
    return failure('native', '@trt-refit/native-backend', e);
  }
}

/** Probes every backend. */
export async function doctorReport(env: NodeJS.ProcessEnv): Promise<DoctorReport> {
  return { backends: [await probeMock(), await probeNative(env)] };
}

function formatText(report: DoctorReport): string {
  const lines: string[] = [];
  for (const b of report.backends) {
    const version = b.version ? ` (TensorRT ${b.version}${b.name === 'mock' ? ', emulated' : ''})` : '';
    lines.push(`${b.name}: ${b.available ? 'available' : 'unavailable'}${version}`);
    for (const r of b.reasons) lines.push(`  - ${r.cause}`, `    fix: ${r.fix}`);
  }
  return lines.join('\n') + '\n';
}

/** Prints the report; exits 1 when a backend named with `--require` is unavailable. */
export async function doctor(io: CliIo, opts: DoctorOptions): Promise<number> {
  const full = await doctorReport(io.env);
  // --backend: only that backend's entry is reported
  const report = opts.backend ? { backends: full.backends.filter((b) => b.name === opts.backend) } : full;
  const names = full.backends.map((b) => b.name);
  for (const r of opts.require ?? []) {
    if (!names.includes(r)) throw new CliError(`--require takes one of ${names.join(', ')}, received ${JSON.stringify(r)}`, ExitCode.USAGE);
  }
  io.stdout(opts.json ? JSON.stringify(report) + '\n' : formatText(report));
  const missing = (opts.require ?? []).filter((r) => !report.backends.find((b) => b.name === r)?.available);
  return missing.length ? ExitCode.REFUSED : ExitCode.OK;
}

/** `trt-refit doctor [--json] [--backend <name>] [--require <backend>...]`. */
export const doctorCommand: CommandModule = {
  register(program: Command, io: CliIo, setExit) {
    program
      .command('doctor')
      .description('report which backends can run here (CUDA, TensorRT, the addon) and, for each that cannot, why and how to fix it')
      .option('--json', 'machine-readable output: {"backends": [{"name", "available", "version", "reasons": [{"cause", "fix"}]}]}')
      .option('--require <backend>', 'exit 1 unless this backend is available (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
      .addOption(new Option('--backend <name>', 'report on this backend only').choices(['mock', 'native']))
      .action(async (opts: DoctorOptions) => setExit(await doctor(io, opts)));
  },
};
