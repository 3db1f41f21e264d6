// The body Ory Kratos's courier sends to dingtalk-gateway's POST /hooks/kratos:
// courier.channels[{id: sms, type: http, request_config: {body: "file:///…/kratos-body.jsonnet"}}].
// Kratos passes ctx.recipient (the phone number), ctx.template_type (login_code_valid,
// recovery_code_valid, verification_code_valid, registration_code_valid, …), ctx.template_data
// (the code under its template's name, expires_in_minutes, the identity) and ctx.body (its
// rendered SMS). Only what the gateway needs is sent: the identity's traits stay in Kratos.
function(ctx)
  local data = if std.objectHas(ctx, 'template_data') && ctx.template_data != null then ctx.template_data else {};
  local first(names) = std.foldl(
    function(found, name) if found != null then found else if std.objectHas(data, name) then data[name] else null,
    names,
    null,
  );
  local identity = first(['identity']);
  {
    recipient: ctx.recipient,
    template_type: ctx.template_type,
    code: first(['login_code', 'recovery_code', 'verification_code', 'registration_code']),
    expires_in_minutes: first(['expires_in_minutes']),
    identity_id: if identity != null && std.objectHas(identity, 'id') then identity.id else null,
    body: if std.objectHas(ctx, 'body') then ctx.body else null,
  }
