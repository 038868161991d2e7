"""Serving many workspaces: the app installed in each through Slack's OAuth flow.

One deployment may serve partnerships that each have their own Slack workspace. Then the app
is distributed rather than given one bot token: each workspace's administrator opens
`/slack/install`, allows the app, and Slack sends them back to `/slack/oauth_redirect`, where
the code Slack gave is exchanged (oauth.v2.access) for that workspace's bot token, kept in the
installation store (`installations`). Requests are answered, and alerts sent, with the token
of the workspace concerned. Installing the app shows nobody anything: a workspace sees a
partnership's data only once the partnership is linked to it (`partnership link-slack`).
"""

from __future__ import annotations

from slack_bolt.oauth.oauth_settings import OAuthSettings

from .installations import STATE_LIFETIME, Installations

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
SCOPES = ("commands", "chat:write", "im:write", "users:read")
"""The bot scopes the app asks for, as slack-app-manifest.yaml declares them."""


def authorize_url(api_url: str) -> str:
    """Slack's install page, beside its Web API (https://slack.com/oauth/v2/authorize beside
    https://slack.com/api/), so SLACK_API_URL points both at a stand-in."""
    base = api_url.rstrip("/")
    base = base[:-len("/api")] if base.endswith("/api") else base
    return f"{base}/oauth/v2/authorize"


def oauth_settings(installations: Installations, *, client_id: str, client_secret: str,
                   api_url: str, redirect_uri: str | None = None) -> OAuthSettings:
    """Bolt's OAuth flow, with the installations and its states kept in the ledger's store."""
    return OAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=list(SCOPES),
        user_scopes=[],
        redirect_uri=redirect_uri or None,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        authorization_url=authorize_url(api_url),
        installation_store=installations,
        installation_store_bot_only=True,
        state_store=installations,
        state_expiration_seconds=int(STATE_LIFETIME),
    )
