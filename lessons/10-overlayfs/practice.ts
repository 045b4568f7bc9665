import { definePractice } from '../../src/engine/exercise.js';

export default definePractice({
  lesson: 10,
  exercises: [],
});
