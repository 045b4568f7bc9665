// The run's AppArmor step (lesson 15): which profile confines the box here, the step that
// loads boxlab-default, or why no box may start.
import type { AppArmorFacts } from '../model/host-facts.js';
import type { Step } from '../model/lesson.js';
import { writeFile } from '../shell/coreutils.js';
import { BOXLAB_DEFAULT, loadProfile, profileText } from './apparmor.js';
import type { RunSpec } from './spec.js';

const PROFILE_FILE = '${WORK}/apparmor-profile';

/** The profile the way into the box applies, if any. A spec from before AppArmor was taught
 *  (a box record) has none: it gets the default, as a new run would. */
export function appliedProfile(spec: Pick<RunSpec, 'apparmor'>, aa: AppArmorFacts): string | undefined {
  const choice = spec.apparmor ?? { profile: BOXLAB_DEFAULT, from: 'default' };
  return choice !== 'unconfined' && aa.state === 'on' ? choice.profile : undefined;
}

type NewStep = Omit<Step, 'checks'> & { lessons: number[]; oci: string };

export function apparmorStep(spec: RunSpec, host: { apparmor: AppArmorFacts }): { step?: NewStep; warning?: string } {
  const choice = spec.apparmor ?? { profile: BOXLAB_DEFAULT, from: 'default' };
  if (choice === 'unconfined') return {};
  const aa = host.apparmor;
  const unconfined = '--security-opt apparmor=unconfined runs it without';
  if (aa.state === 'off') {
    // As Docker: the default applies where the kernel has AppArmor, and nowhere else.
    return choice.from === 'default' ? {} : { warning: `apparmor: this kernel does not run AppArmor, so profile ${choice.profile} (${choice.from}) cannot confine the box; ${unconfined}` };
  }
  if (aa.state === 'unmounted') return { warning: `apparmor: AppArmor is on, but securityfs is not mounted (mount -t securityfs securityfs /sys/kernel/security); ${unconfined}` };
  if (choice.profile !== BOXLAB_DEFAULT) {
    return aa.loaded.has(choice.profile) ? {} : { warning: `apparmor: profile ${choice.profile} (${choice.from}) is not loaded (apparmor_parser --replace FILE loads it); ${unconfined}` };
  }
  if (!aa.parser) return { warning: `apparmor: AppArmor is on and boxlab-default needs apparmor_parser to load it (apt-get install apparmor); ${unconfined}` };
  const text = profileText(BOXLAB_DEFAULT);
  return {
    step: {
      id: 'apparmor',
      title: `The AppArmor profile ${BOXLAB_DEFAULT}, loaded unless the kernel already has this very text`,
      feature: { name: 'AppArmor profile (an LSM)', syscalls: ['write(2) to /sys/kernel/security/apparmor/.replace'], man: ['apparmor(7)', 'apparmor_parser(8)', 'apparmor.d(5)'] },
      lessons: [15],
      oci: 'process.apparmorProfile',
      actions: [{ run: writeFile(PROFILE_FILE, text) }, { run: loadProfile(PROFILE_FILE, BOXLAB_DEFAULT, text) }],
    },
  };
}
