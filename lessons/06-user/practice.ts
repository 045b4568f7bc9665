import { definePractice } from '../../src/engine/exercise.js';

export default definePractice({
  lesson: 6,
  exercises: [],
});
