/* The deliverer's one-time code: identity proof on the phone, then the QR to be scanned. */
(function () {
  "use strict";
  var C = window.InspectaCustody;
  if (!document.getElementById("handover-card") || !C) return;
  var box = document.getElementById("handover-error");
  function error(text) { box.textContent = text || ""; box.classList.toggle("d-none", !text); }
  function show(data) {
    document.getElementById("handover-svg").innerHTML = data.qr_svg;
    document.getElementById("handover-code").textContent = data.code;
    var until = new Date(data.expires_at);
    document.getElementById("handover-expires").textContent = "有效至 " + until.toLocaleTimeString() + "，仅可使用一次。";
    document.getElementById("handover-qr").classList.remove("d-none");
  }
  function go(totp) {
    error("");
    C.api("GET", "/api/v1/sampling/handover/challenge").then(function (challenge) {
      if (totp) return C.api("POST", "/api/v1/sampling/handover", { nonce: challenge.nonce, totp_code: totp });
      return window.InspectaPasskey.confirm(JSON.stringify(challenge.options)).then(function (assertion) {
        var body = typeof assertion === "string" ? JSON.parse(assertion) : assertion;
        return C.api("POST", "/api/v1/sampling/handover", { nonce: challenge.nonce, assertion: body });
      });
    }).then(show, function (e) { error(e.message); });
  }
  var passkey = document.getElementById("handover-passkey");
  var totpGo = document.getElementById("handover-totp-go");
  if (passkey) passkey.addEventListener("click", function () { go(""); });
  if (totpGo) totpGo.addEventListener("click", function () {
    var code = document.getElementById("handover-totp").value.trim();
    if (!/^\d{6,8}$/.test(code)) { error("请输入 6 位动态口令。"); return; }
    go(code);
  });
})();
