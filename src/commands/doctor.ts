import { parse } from './args.js';
import { RealRunner } from '../shell/spawn.js';
import { doctor } from '../box/doctor.js';

export async function doctorCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, { json: { type: 'boolean' } });
  const findings = await doctor(new RealRunner());
  if (values.json) process.stdout.write(JSON.stringify(findings) + '\n');
  else {
    const chalk = (await import('chalk')).default;
    const paint = { ok: chalk.green, warn: chalk.yellow, fail: chalk.red };
    for (const f of findings) {
      process.stdout.write(`${paint[f.level](f.level.padEnd(4))}  ${f.name.padEnd(16)} ${f.detail}${f.fix ? chalk.dim(`  → ${f.fix}`) : ''}\n`);
    }
  }
  return findings.some((f) => f.level === 'fail') ? 1 : 0;
}
