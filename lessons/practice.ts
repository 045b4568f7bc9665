// The exercises of each lesson (practice mode), by lesson number. Static imports, as lessons.
import { practiceOf, type Practice } from '../src/engine/exercise.js';
import type { HostFacts } from '../src/model/host-facts.js';
import { realHost } from '../src/container/host.js';
import practice1 from './01-chroot/practice.js';
import practice2 from './02-mount-pivot-root/practice.js';
import practice3 from './03-pid/practice.js';
import practice4 from './04-uts-ipc-time/practice.js';
import practice5 from './05-network/practice.js';
import practice6 from './06-user/practice.js';
import practice7 from './07-capabilities/practice.js';
import practice8 from './08-seccomp/practice.js';
import practice9 from './09-cgroups/practice.js';
import practice10 from './10-overlayfs/practice.js';
import practice11 from './11-images/practice.js';
import practice12 from './12-container/practice.js';
import practice13 from './13-build-push/practice.js';
import practice14 from './14-engines/practice.js';
import practice15 from './15-apparmor/practice.js';

const SOURCES = [practice1, practice2, practice3, practice4, practice5, practice6, practice7, practice8, practice9, practice10, practice11, practice12, practice13, practice14, practice15];

/** Every lesson's exercises, built for this host (9 and 12 depend on its cgroup layout). */
export const allPractice = (host: HostFacts = realHost()): Practice[] => SOURCES.map((p) => practiceOf(p, host));

/** The lessons with at least one exercise. */
export const practiceLessons = (host: HostFacts = realHost()): number[] => allPractice(host).filter((p) => p.exercises.length > 0).map((p) => p.lesson);

export const practiceFor = (n: number, host: HostFacts = realHost()): Practice | undefined => allPractice(host).find((p) => p.lesson === n && p.exercises.length > 0);
