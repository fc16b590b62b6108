// A custom chat UI on chaport.client (Parley's headless client; docs/client.md, "Browser").
// Everything on screen is this page's own: Parley draws nothing (chaportConfig.parley.ui false).
(function () {
  'use strict';
  var log = document.getElementById('log');
  var typing = document.getElementById('typing');
  var ended = document.getElementById('ended');
  var problem = document.getElementById('problem');
  var text = document.getElementById('text');
  var fileInput = document.getElementById('file');
  var shown = new Map();  // message id -> its <li>
  var seenUpTo = 0;  // the operators' "seen" mark on the visitor's messages (a message id)
  var typingTimer = null;
  var client = null;

  function say(error) {
    problem.textContent = error ? 'Sorry, that did not work (' + error.code + ').' : '';
  }

  function show(message) {
    if (shown.has(message.id) || message.authorKind === 'note') return;
    var item = document.createElement('li');
    item.className = 'msg ' + message.authorKind;
    item.dataset.id = message.id;
    if (message.authorKind === 'system') {
      var code = (message.system || {}).code;
      item.textContent = code === 'closed' ? 'The chat was closed' : code === 'assigned'
        ? 'An agent joined the chat' : code === 'reopened' ? 'The chat was reopened' : '';
    } else {
      var body = document.createElement('span');
      body.className = 'text';
      body.textContent = message.text;
      item.appendChild(body);
      if (message.file) {
        var link = document.createElement('a');
        link.href = new URL(message.file.url, PARLEY_ORIGIN).href;
        link.textContent = message.file.name;
        link.className = 'file';
        item.appendChild(link);
      }
      if (message.authorKind === 'visitor') {
        var status = document.createElement('span');
        status.className = 'status';
        item.appendChild(status);
        if (message.seenAt) seenUpTo = Math.max(seenUpTo, message.id);
      }
    }
    // In id order: history pages and live events may interleave.
    var after = null;
    shown.forEach(function (other, id) { if (id > message.id && (!after || id < Number(after.dataset.id))) after = other; });
    log.insertBefore(item, after);
    shown.set(message.id, item);
    statuses();
    if (message.authorKind === 'operator' || message.authorKind === 'bot') {
      typing.textContent = '';
      reportSeen();
    }
  }

  function statuses() {
    shown.forEach(function (item, id) {
      var status = item.querySelector('.status');
      if (status) status.textContent = id <= seenUpTo ? 'Seen' : 'Sent';
    });
  }

  function reportSeen() {
    if (document.visibilityState !== 'visible') return;
    var newest = 0;
    shown.forEach(function (item, id) { if (!item.classList.contains('visitor')) newest = Math.max(newest, id); });
    if (newest) client.markEventsAsSeen({ seenUpTo: newest }).catch(say);
  }

  function chatState(chat) {
    ended.hidden = !chat || chat.status !== 'closed';
    if (chat && chat.rating) document.getElementById('rated').textContent = 'Thanks for rating us: ' + chat.rating;
  }

  async function loadHistory() {
    var newest = null;
    for await (var page of client.getChatHistory()) {
      page.forEach(show);
      if (!newest) newest = page[page.length - 1];
      if (shown.size >= 200) break;  // enough to read on
    }
    if (newest) chatState(await client.getChat(newest.chatId));
  }

  var PARLEY_ORIGIN = new URL(document.querySelector('script[src$="/widget/loader.js"]').src).origin;

  chaport.on('ready', async function () {
    client = chaport.client;
    client.on('incoming_event', function (payload) { show(payload.event); });
    client.on('incoming_chat', function (payload) { chatState(payload.chat); });
    client.on('chat_deactivated', function (payload) { chatState(payload.chat); });
    client.on('chat_rated', function (payload) { chatState(payload.chat); });
    client.on('events_marked_as_seen', function (payload) {
      if (payload.by === 'operator') { seenUpTo = Math.max(seenUpTo, payload.seenUpTo); statuses(); }
    });
    client.on('incoming_typing_indicator', function (payload) {
      var indicator = payload.typingIndicator;
      typing.textContent = indicator.isTyping ? (indicator.authorName || 'An agent') + ' is typing…' : '';
      clearTimeout(typingTimer);
      typingTimer = setTimeout(function () { typing.textContent = ''; }, 6000);
    });
    function availability(value) {
      document.getElementById('availability').textContent = value === 'online' ? 'We are online' : 'We are away: leave a message';
    }
    client.on('availability_updated', function (payload) { availability(payload.availability); });
    document.addEventListener('visibilitychange', reportSeen);
    try {
      var session = await client.restore();
      availability(session === 'none' ? (await client.connect()).availability : session.availability);
      if (session !== 'none') await loadHistory();
    } catch (error) {
      // A session existed but could not be restored: this is a new conversation.
      availability((await client.connect()).availability);
    }
    document.body.dataset.ready = 'true';
  });

  document.getElementById('composer').addEventListener('submit', function (event) {
    event.preventDefault();
    var message = text.value;
    text.value = '';
    say(null);
    // Kept in the widget's outbox until the server has it: nothing is lost offline.
    client.sendEvent({ type: 'message', text: message }).catch(say);
  });
  text.addEventListener('input', function () { client.setSneakPeek(text.value); });
  fileInput.addEventListener('change', async function () {
    var file = fileInput.files[0];
    if (!file) return;
    try {
      var uploaded = await client.uploadFile(file);
      await client.sendEvent({ type: 'file', file: uploaded });
    } catch (error) { say(error); }
    fileInput.value = '';
  });
  document.getElementById('end').addEventListener('click', function () {
    client.deactivateChat().catch(say);
  });
  [['rate-good', 1], ['rate-bad', 0]].forEach(function (button) {
    document.getElementById(button[0]).addEventListener('click', function () {
      client.rateChat({ rating: { score: button[1] } }).then(chatState, say);
    });
  });
})();
