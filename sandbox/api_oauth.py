"""oauth.v2.access: the install (code exchange) and token rotation (refresh) flows."""

from __future__ import annotations

import secrets

from sandbox.context import CallContext, Handler
from sandbox.errors import SlackError
from sandbox.state import JSON, OAuthCode, SandboxState, TokenInfo, Workspace


def issue_code(state: SandboxState, team_id: str, user_id: str, redirect_uri: str | None) -> str:
    if team_id not in state.workspaces:
        raise KeyError(f"unknown workspace {team_id}")
    code = f"{state.next_id('', 6)}.{secrets.token_hex(8)}"
    state.oauth_codes[code] = OAuthCode(team_id, user_id, redirect_uri)
    return code


def mint_bot_token(state: SandboxState, workspace: Workspace) -> str:
    """With token rotation on, a fresh expiring token; otherwise the workspace's fixed token."""
    config = state.oauth
    if config.token_rotation:
        token = f"xoxe.xoxb-1-{workspace.team_id}-{secrets.token_hex(12)}"
        expires = state.time_source() + config.expires_in
        state.tokens[token] = TokenInfo(workspace.team_id, expires_at=expires)
        workspace.bot_token = token
    else:
        token = workspace.bot_token
        state.tokens[token] = TokenInfo(workspace.team_id)
    workspace.installed = True
    return token


def oauth_v2_access(ctx: CallContext) -> JSON:
    config = ctx.state.oauth
    client_id, client_secret = ctx.basic_auth or (
        ctx.str_param("client_id") or "",
        ctx.str_param("client_secret") or "",
    )
    if client_id != config.client_id:
        raise SlackError("invalid_client_id")
    if client_secret != config.client_secret:
        raise SlackError("bad_client_secret")
    grant_type = ctx.str_param("grant_type")
    if grant_type == "refresh_token":
        return _refresh(ctx)
    if grant_type is not None:
        raise SlackError("invalid_grant_type", rejected=True)
    code = ctx.state.oauth_codes.get(ctx.need("code"))
    if code is None or code.used:
        raise SlackError("invalid_code")
    if code.redirect_uri is not None and ctx.str_param("redirect_uri") != code.redirect_uri:
        raise SlackError("bad_redirect_uri")
    code.used = True
    workspace = ctx.state.workspaces[code.team_id]
    body = _installation(ctx.state, workspace, mint_bot_token(ctx.state, workspace))
    body["authed_user"] = {"id": code.user_id}
    if config.user_scopes:
        user_token = f"xoxp-{workspace.team_id}-{secrets.token_hex(12)}"
        ctx.state.tokens[user_token] = TokenInfo(workspace.team_id)
        body["authed_user"].update(
            {
                "scope": ",".join(config.user_scopes),
                "access_token": user_token,
                "token_type": "user",
            }
        )
    return body


def _refresh(ctx: CallContext) -> JSON:
    team_id = ctx.state.refresh_tokens.pop(ctx.need("refresh_token"), None)
    if team_id is None:
        raise SlackError("invalid_refresh_token")
    workspace = ctx.state.workspaces[team_id]
    return _installation(ctx.state, workspace, mint_bot_token(ctx.state, workspace))


def _installation(state: SandboxState, workspace: Workspace, token: str) -> JSON:
    config = state.oauth
    body: JSON = {
        "ok": True,
        "access_token": token,
        "token_type": "bot",
        "scope": ",".join(config.scopes),
        "bot_user_id": workspace.bot_user_id,
        "app_id": state.app_id,
        "team": {"id": workspace.team_id, "name": workspace.name},
        "enterprise": None,
        "is_enterprise_install": False,
    }
    if config.token_rotation:
        refresh = f"xoxe-1-{workspace.team_id}-{secrets.token_hex(12)}"
        state.refresh_tokens[refresh] = workspace.team_id
        body["refresh_token"] = refresh
        body["expires_in"] = config.expires_in
    return body


HANDLERS: dict[str, Handler] = {"oauth.v2.access": oauth_v2_access}
