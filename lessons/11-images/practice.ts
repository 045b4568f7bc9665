import { definePractice } from '../../src/engine/exercise.js';

export default definePractice({
  lesson: 11,
  exercises: [],
});
