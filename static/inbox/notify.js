// Parley inbox: one sound and one desktop notification per new visitor message across
// all of an operator's tabs (static/inbox/notify.py decides what to announce).
//
// Each message id is claimed once, under a Web Lock (so two tabs never both see it
// unclaimed) and recorded in localStorage as the newest id claimed: message ids only
// grow, so a tab that is late for an older message stays quiet. A tab showing the
// message's chat claims it quietly at once; the others wait a moment before ringing.
// Notification permission is only asked from a click (requestPermission below).

const locked = (key, work) =>
  navigator.locks ? navigator.locks.request(key + ":lock", work) : Promise.resolve().then(work);

const claimed = (key, id) => {
  try {
    if (Number(localStorage.getItem(key)) >= id) return true;
    localStorage.setItem(key, String(id));
  } catch (error) { /* storage blocked: this tab decides alone */ }
  return false;
};

const beep = () => {
  try {
    const audio = new AudioContext();
    for (const [frequency, start] of [[660, 0], [880, 0.13]]) {
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = frequency;
      gain.gain.setValueAtTime(0.08, audio.currentTime + start);
      gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + start + 0.12);
      tone.connect(gain).connect(audio.destination);
      tone.start(audio.currentTime + start);
      tone.stop(audio.currentTime + start + 0.13);
    }
    setTimeout(() => audio.close(), 600);
  } catch (error) { /* no audio here */ }
};

window.parleyNotify = {
  // Someone is looking at this message's chat: nobody rings for it.
  quiet: (key, id) => locked(key, () => { claimed(key, id); }),
  // Rings (sound and/or desktop notification) unless another tab claimed the message.
  ring: (key, id, title, body, chatId, sound, desktop) => locked(key, () => {
    if (claimed(key, id)) return false;
    if (sound) beep();
    if (desktop && "Notification" in window && Notification.permission === "granted") {
      try {
        const shown = new Notification(title, { body, tag: "parley-chat-" + chatId });
        shown.onclick = () => {
          window.focus();
          window.dispatchEvent(new CustomEvent("parley-open-chat", { detail: chatId }));
          shown.close();
        };
      } catch (error) { /* e.g. Android Chrome needs a service worker: the sound still played */ }
    }
    return true;
  }),
  permission: () => ("Notification" in window ? Notification.permission : "unsupported"),
  requestPermission: () =>
    ("Notification" in window ? Notification.requestPermission() : Promise.resolve("unsupported")),
};
