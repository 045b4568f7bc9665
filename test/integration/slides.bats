#!/usr/bin/env bats
# shellcheck disable=SC2154 # stderr: set by run --separate-stderr
# boxlab slides: the decks of lessons 3 and 12 rendered by a real browser (headless Chromium):
# every slide in the DOM once the deck's script ran, and screenshots that are not blank. No root.
load helpers
bats_require_minimum_version 1.5.0

# A profile of its own per run: instances started together must not find each other.
chrome() {
  local profile=$1
  shift
  timeout 60 chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-extensions \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$BATS_TEST_TMPDIR/profile-$profile" --window-size=1280,720 "$@" 2>/dev/null
}

# WIDTH HEIGHT COLOURS INKED (pixels in 10,000 that are not the background)
png_stats() { node "$ROOT/test/integration/fixtures/png-stats.mjs" "$1"; }

@test "slides 3 and 12 render in headless Chromium: a slide per step, plus title and recap, drawn on screen" {
  requires chromium
  cd "$BATS_TEST_TMPDIR"
  run boxlab slides 3
  assert_success
  [ -s slides-03.html ]
  run boxlab slides 12 -o deck-12.html
  assert_success
  steps3=$(boxlab lesson 3 --dry-run | grep -c '━━ Step')
  steps12=$(boxlab lesson 12 --dry-run | grep -c '━━ Step')
  # Slide 3 of lesson 3 has the PID namespace diagram; slide 2 of lesson 12, the run's.
  url3="file://$PWD/slides-03.html#3"
  url12="file://$PWD/deck-12.html#2"
  # One browser per deck, both at once: a screenshot and the DOM from the same page load.
  chrome 3 --screenshot="$PWD/3.png" --dump-dom "$url3" >3.dom &
  chrome 12 --screenshot="$PWD/12.png" --dump-dom "$url12" >12.dom &
  wait
  # The DOM after the script ran: a slide per step (a long step goes on over more, step-N-2
  # ...), title and recap; the one the URL names shown, the counter set.
  [ "$(grep -Ec '<section class="slide( current)?" id="(title|recap|step-[0-9]+)"' 3.dom)" = $((steps3 + 2)) ]
  [ "$(grep -Ec '<section class="slide( current)?" id="(title|recap|step-[0-9]+)"' 12.dom)" = $((steps12 + 2)) ]
  [ "$(grep -c '<section class="slide' 12.dom)" -gt $((steps12 + 2)) ] # lesson 12 has long steps
  grep -q '<section class="slide current" id="step-2"' 3.dom
  grep -q '<section class="slide current" id="step-1"' 12.dom
  grep -q "<div id=\"counter\">3 / $(grep -c '<section class="slide' 3.dom)</div>" 3.dom
  grep -q '<body class="">' 3.dom # the no-script fallback was switched off
  for shot in 3 12; do
    read -r width height colours inked < <(png_stats "$shot.png")
    echo "slide $shot: ${width}x$height, $colours colours, $inked/10000 not background"
    [ "$width" = 1280 ] && [ "$height" = 720 ]
    # Anti-aliased text in several colours and a diagram: hundreds of colours, and ink on
    # more than 5% of the screen (a blank page has 1 colour and 0).
    [ "$colours" -gt 200 ]
    [ "$inked" -gt 500 ]
  done
}

@test "slides: -o - writes the deck to stdout; a lesson that does not exist is one line and exit 2" {
  cd "$BATS_TEST_TMPDIR"
  run --separate-stderr boxlab slides 4 -o -
  assert_success
  [[ "$output" == '<!DOCTYPE html>'* ]]
  [ ! -e slides-04.html ]
  run --separate-stderr boxlab slides 99
  assert_failure 2
  [[ "$stderr" == "boxlab: no lesson '99': there are lessons 1, 2, 3, "* ]]
  run --separate-stderr boxlab slides
  assert_failure 2
  [ "$(printf '%s\n' "$stderr" | wc -l)" = 1 ]
}
