/* Alerts for the agent console: a count of new cases and customer messages in the page title,
 * e.g. "(3) 星联客服 · 坐席工作台", until the agent is back on the page, and an optional beep
 * (off by default; the switch is remembered in this browser) generated with WebAudio. */
var SOUND_KEY = "cs-console-sound";
var title = document.title, unseen = 0, audio = null;

function soundOn() { return localStorage.getItem(SOUND_KEY) === "1"; }

function render() { document.title = unseen ? "(" + unseen + ") " + title : title; }

export function seen() { if (unseen) { unseen = 0; render(); } }

function beep() {
  var Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return;
  audio = audio || new Context();
  if (audio.state === "suspended") audio.resume();
  var t = audio.currentTime, tone = audio.createOscillator(), gain = audio.createGain();
  tone.type = "sine";
  tone.frequency.setValueAtTime(880, t);
  tone.frequency.setValueAtTime(1320, t + 0.12);
  gain.gain.setValueAtTime(0.0001, t);
  gain.gain.exponentialRampToValueAtTime(0.25, t + 0.02);
  gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.3);
  tone.connect(gain);
  gain.connect(audio.destination);
  tone.start(t);
  tone.stop(t + 0.32);
}

export function notify() {
  unseen += 1;
  render();
  if (!soundOn()) return;
  try { beep(); } catch (e) { /* no audio output here: the title still counts */ }
}

/* The sound switch: a checkbox; turning it on plays the beep once (and, being a click,
 * lets the browser play sound from now on). */
export function bindSwitch(box) {
  box.checked = soundOn();
  box.addEventListener("change", function () {
    localStorage.setItem(SOUND_KEY, box.checked ? "1" : "0");
    if (box.checked) try { beep(); } catch (e) { /* no audio output here */ }
  });
}

// The agent is looking again: the count goes.
window.addEventListener("focus", seen);
document.addEventListener("visibilitychange", function () { if (!document.hidden) seen(); });
document.addEventListener("pointerdown", seen, true);
document.addEventListener("keydown", seen, true);
