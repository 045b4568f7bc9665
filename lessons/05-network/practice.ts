import { definePractice } from '../../src/engine/exercise.js';

export default definePractice({
  lesson: 5,
  exercises: [],
});
