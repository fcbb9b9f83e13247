/* Passkeys (WebAuthn) in the browser, no framework (inspecta/accounts/passkeys.py).

   InspectaPasskey.register(optionsJson) -> Promise<credential JSON>
     enrols a passkey: optionsJson is what the server gave
     (passkey_registration_options), the result goes back to it (passkey_register).
   InspectaPasskey.confirm(optionsJson) -> Promise<assertion JSON>
     confirms a record: optionsJson from identity_challenge_options, the result goes
     to identity_confirm.

   Both reject with an Error whose message is plain Chinese, ready to show: the browser
   has no passkeys, the person cancelled or the phone's fingerprint/face check failed,
   and so on. The messages come from the data-msg-* attributes of this script's tag
   (translated by the template accounts/_passkey_script.html), else the defaults below.

   Binary values travel as base64url strings in JSON and as ArrayBuffers in the
   WebAuthn API; toBuffer/toBase64url convert between the two.

   The page wiring: a button [data-passkey-register] (data-options-url, data-register-url,
   data-name-input: the id of the name field, data-status: the id of the status line)
   enrols and reloads; a form [data-passkey-remove] asks data-confirm before removing. */
(function (global) {
  "use strict";

  var script = document.currentScript;
  var MESSAGES = {
    unsupported: "此浏览器不支持通行密钥。请用手机自带的浏览器（如 Safari、Chrome）打开本页，或使用动态口令。",
    insecure: "当前网址不能使用通行密钥，请通过平台的正式网址（https）访问。",
    cancelled: "已取消，或手机未完成指纹/面容验证。请重试。",
    exists: "这部手机上已经有本账号的通行密钥了。",
    failed: "通行密钥操作未完成，请重试。",
    server: "服务器未能处理请求，请稍后重试。"
  };
  if (script && script.dataset) {
    Object.keys(MESSAGES).forEach(function (key) {
      var value = script.dataset["msg" + key.charAt(0).toUpperCase() + key.slice(1)];
      if (value) MESSAGES[key] = value;
    });
  }

  function toBuffer(value) {
    var base64 = String(value).replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) base64 += "=";
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    if (buffer === null || buffer === undefined) return null;
    var bytes = new Uint8Array(buffer instanceof ArrayBuffer ? buffer : buffer.buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function parse(options) {
    return typeof options === "string" ? JSON.parse(options) : JSON.parse(JSON.stringify(options));
  }

  function descriptors(list) {
    return (list || []).map(function (c) {
      var d = { type: c.type || "public-key", id: toBuffer(c.id) };
      if (c.transports) d.transports = c.transports;
      return d;
    });
  }

  function creationOptions(optionsJson) {
    var o = parse(optionsJson);
    o.challenge = toBuffer(o.challenge);
    o.user.id = toBuffer(o.user.id);
    o.excludeCredentials = descriptors(o.excludeCredentials);
    return o;
  }

  function requestOptions(optionsJson) {
    var o = parse(optionsJson);
    o.challenge = toBuffer(o.challenge);
    o.allowCredentials = descriptors(o.allowCredentials);
    return o;
  }

  function credentialToJSON(credential) {
    var r = credential.response;
    var response = { clientDataJSON: toBase64url(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toBase64url(r.attestationObject);
      if (typeof r.getTransports === "function") response.transports = r.getTransports();
    }
    if (r.authenticatorData) {
      response.authenticatorData = toBase64url(r.authenticatorData);
      response.signature = toBase64url(r.signature);
      response.userHandle = r.userHandle ? toBase64url(r.userHandle) : null;
    }
    return {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      response: response,
      clientExtensionResults: typeof credential.getClientExtensionResults === "function" ? credential.getClientExtensionResults() : {},
      authenticatorAttachment: credential.authenticatorAttachment || null
    };
  }

  function supported() {
    return !!(global.PublicKeyCredential && global.navigator.credentials && global.navigator.credentials.create);
  }

  function explain(error) {
    var name = error && error.name;
    var message = MESSAGES.failed;
    if (name === "NotAllowedError" || name === "AbortError") message = MESSAGES.cancelled;
    else if (name === "InvalidStateError") message = MESSAGES.exists;
    else if (name === "SecurityError") message = MESSAGES.insecure;
    else if (name === "NotSupportedError") message = MESSAGES.unsupported;
    var wrapped = new Error(message);
    wrapped.name = name || "Error";
    wrapped.cause = error;
    return wrapped;
  }

  function ceremony(run) {
    if (!global.isSecureContext) return Promise.reject(explain({ name: "SecurityError" }));
    if (!supported()) return Promise.reject(explain({ name: "NotSupportedError" }));
    try {
      return run().then(credentialToJSON, function (error) { throw explain(error); });
    } catch (error) {
      return Promise.reject(explain(error));
    }
  }

  function register(optionsJson) {
    return ceremony(function () {
      return global.navigator.credentials.create({ publicKey: creationOptions(optionsJson) });
    });
  }

  function confirm(optionsJson) {
    return ceremony(function () {
      return global.navigator.credentials.get({ publicKey: requestOptions(optionsJson) });
    });
  }

  // --- page wiring -------------------------------------------------------------------

  function csrfToken() {
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken() },
      body: body === undefined ? "{}" : JSON.stringify(body)
    }).then(function (answer) {
      return answer.json().catch(function () { return {}; }).then(function (data) {
        if (!answer.ok) throw new Error((data.error && data.error.message) || MESSAGES.server);
        return data;
      });
    }, function () { throw new Error(MESSAGES.server); });
  }

  function wireRegister(button) {
    var status = document.getElementById(button.dataset.status || "");
    var nameInput = document.getElementById(button.dataset.nameInput || "");
    function show(text, kind) {
      if (!status) return;
      status.textContent = text;
      status.className = "small mt-2 " + (kind === "error" ? "text-danger" : "text-secondary");
    }
    if (!supported()) {
      show(MESSAGES.unsupported, "error");
    }
    button.addEventListener("click", function () {
      button.disabled = true;
      show(button.dataset.working || "", "info");
      post(button.dataset.optionsUrl)
        .then(function (options) { return register(options); })
        .then(function (credential) {
          return post(button.dataset.registerUrl, { credential: credential, name: nameInput ? nameInput.value : "" });
        })
        .then(function () { global.location.reload(); })
        .catch(function (error) {
          show(error.message, "error");
          button.disabled = false;
        });
    });
  }

  function wireRemove(form) {
    form.addEventListener("submit", function (event) {
      if (!global.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }

  function wire() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-passkey-register]"), wireRegister);
    Array.prototype.forEach.call(document.querySelectorAll("form[data-passkey-remove]"), wireRemove);
  }

  global.InspectaPasskey = {
    register: register,
    confirm: confirm,
    supported: supported,
    toBuffer: toBuffer,
    toBase64url: toBase64url,
    creationOptions: creationOptions,
    requestOptions: requestOptions,
    credentialToJSON: credentialToJSON,
    messages: MESSAGES
  };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", wire);
  else wire();
})(window);
