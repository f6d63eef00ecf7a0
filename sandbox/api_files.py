"""The file-upload flow: getUploadURLExternal, the upload POST, completeUploadExternal."""

from __future__ import annotations

import email.parser
import email.policy
import secrets
from typing import Any

from sandbox.context import CallContext, Handler, post_target
from sandbox.errors import SlackError, invalid_arguments
from sandbox.state import JSON, File, Message, SandboxState, file_object
from sandbox.validation import decode_json_param


def get_upload_url(ctx: CallContext) -> JSON:
    filename = ctx.need("filename")
    try:
        length = int(ctx.need("length"))
    except ValueError:
        raise invalid_arguments("length must be an integer") from None
    if length < 1:
        raise invalid_arguments("length must be at least 1")
    file_id = ctx.state.next_id("F")
    token = secrets.token_urlsafe(12)
    ctx.state.files[file_id] = File(
        id=file_id,
        filename=filename,
        title=filename,
        alt_txt=ctx.str_param("alt_txt"),
        content=b"",
        team_id=ctx.ws.team_id,
        length=length,
    )
    ctx.state.upload_tokens[token] = file_id
    return {"ok": True, "upload_url": f"{ctx.base_url}/upload/v1/{token}", "file_id": file_id}


def receive_upload(state: SandboxState, token: str, body: bytes, content_type: str) -> File:
    """Store the bytes POSTed to an upload URL (raw body, or the file part of a multipart form)."""
    file_id = state.upload_tokens.get(token)
    if file_id is None:
        raise SlackError("invalid_url", http_status=404, rejected=True)
    content = body
    if content_type.startswith("multipart/form-data"):
        content = _multipart_file(body, content_type)
    file = state.files[file_id]
    file.content = content
    file.uploaded = True
    return file


def complete_upload(ctx: CallContext) -> JSON:
    decode_json_param(ctx.params, "files", error="invalid_arguments")
    entries: Any = ctx.params.get("files")
    if not isinstance(entries, list) or not entries:
        raise invalid_arguments("files must be a non-empty JSON array of {id, title}")
    files: list[File] = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            raise invalid_arguments("each files entry needs an id")
        file = ctx.state.files.get(entry["id"])
        if file is None or file.team_id != ctx.ws.team_id or file.completed:
            raise SlackError("file_not_found")
        if not file.uploaded:
            raise SlackError("file_upload_incomplete")  # nothing was POSTed to the upload URL
        if isinstance(entry.get("title"), str) and entry["title"]:
            file.title = entry["title"]
        files.append(file)
    channel_ids = [c for c in (ctx.str_param("channels") or "").split(",") if c]
    channel_id = ctx.str_param("channel_id")
    if channel_id is not None:
        channel_ids.insert(0, channel_id)
    channels = [post_target(ctx, c) for c in channel_ids]
    for file in files:
        file.completed = True
    for channel in channels:
        for file in files:
            file.shared_to.append(channel.id)
        ctx.state.messages.append(
            Message(
                ts=ctx.state.next_ts(),
                channel=channel.id,
                user=ctx.ws.bot_user_id,
                text=ctx.str_param("initial_comment") or "",
                files=list(files),
                thread_ts=ctx.str_param("thread_ts"),
                team_id=ctx.ws.team_id,
            )
        )
    return {"ok": True, "files": [file_object(f) for f in files]}


HANDLERS: dict[str, Handler] = {
    "files.getUploadURLExternal": get_upload_url,
    "files.completeUploadExternal": complete_upload,
}


def _multipart_file(body: bytes, content_type: str) -> bytes:
    header = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + body)
    for part in message.iter_parts():
        if (
            part.get_filename() is not None
            or part.get_param("name", header="content-disposition") == "file"
        ):
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload
    raise SlackError("invalid_form_data", http_status=400, rejected=True)
