"""The Bolt app: `/audit`, the buttons, the forms and the Home tab registered, Bolt's logging quiet.

Every request is acknowledged within Slack's three seconds: buttons and events at once, with
the work after the ack; `/audit` answers and form checks when ready within two seconds, else a
holding reply and the answer later (through the command's response_url). Every act carries an
idempotency key from the payload, so a retried request or a second click records nothing twice.
What the listeners share, and how they keep to the budget, is `handling`.
"""

from __future__ import annotations

import logging
import re

from slack_bolt import App
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient

from . import blocks as b
from .buttons import Buttons
from .conversation import Conversation
from .forms import Forms
from .handling import Handling
from .home import HomeTab
from .linking import Linking
from .raising import RAISE_CONCERN, RaiseConcernForm
from .services import BotServices
from .slash import MORE, SlashCommand
from .waiting import HOME_PAGE


def quiet_bolt_logger() -> logging.Logger:
    """Bolt and slack_sdk log request bodies at DEBUG; keep them at WARNING whatever the root
    level, so no token, secret or personal text reaches a log."""
    for name in ("slack_bolt", "slack_sdk"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logger = logging.getLogger("bot.bolt")
    logger.setLevel(logging.WARNING)
    if not any(isinstance(f, _ClientGiven) for f in logger.filters):
        logger.addFilter(_ClientGiven())
        logger.addFilter(_NoInstallCode())
    return logger


class _ClientGiven(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN from the environment is unused when a client is given;
    the client carries that very token, so the warning only confuses."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


class _NoInstallCode(logging.Filter):
    """Bolt's OAuth flow logs the one-time code Slack refused; say that it did, not the code."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "oauth.v2.access" in record.getMessage():
            record.msg, record.args = "Slack refused an install's code (oauth.v2.access)", None
        return True


def build_app(services: BotServices, *, signing_secret: str, client: WebClient,
              verify_token: bool = True, oauth: OAuthSettings | None = None) -> App:
    """The Bolt app, every handler registered: for one workspace (its bot token is the
    client's), or, given `oauth`, for every workspace that installs it (each request answered
    with the bot token of its workspace's installation; the client gives only the Web API's
    address)."""
    app = App(
        signing_secret=signing_secret,
        client=client,
        process_before_response=True,  # each listener acks, then hands on what comes after
        listener_executor=services.listeners,
        token_verification_enabled=verify_token and oauth is None,
        oauth_settings=oauth,
        logger=quiet_bolt_logger(),
    )
    if oauth is not None:  # app_uninstalled, tokens_revoked: the installation is forgotten
        app.enable_token_revocation_listeners()
    h = Handling(services)
    home = HomeTab(h)
    pressed = Buttons(h, home)
    forms = Forms(h, home)
    app.error(h.on_error)
    app.use(h.skip_handled_retries)
    slash = SlashCommand(h)
    app.command(re.compile(r"^/audit"))(slash.command)
    app.action(MORE)(slash.more)
    app.action(HOME_PAGE)(home.turn_page)
    app.action(b.FEEDBACK_ACKNOWLEDGE)(pressed.listener(pressed.acknowledge_feedback))
    app.action(b.FEEDBACK_SEEN)(pressed.listener(pressed.acknowledge_feedback))
    app.action(b.FEEDBACK_RESPOND)(pressed.listener(pressed.open_responses))
    app.action(b.CONCERN_ACKNOWLEDGE)(pressed.listener(pressed.acknowledge_concern))
    app.action(b.CONCERN_RECORD_ACTION)(pressed.listener(pressed.open_concern_action))
    app.action(b.ACTION_UPDATE)(pressed.listener(pressed.open_action_update))
    app.action(b.FEEDBACK_ANSWER)(pressed.listener(pressed.open_responses))
    app.action(b.ACTION_COMPLETE)(pressed.listener(pressed.open_action_complete))
    app.view(b.FEEDBACK_RESPOND)(forms.submit_responses)
    app.view_closed(b.FEEDBACK_RESPOND)(forms.closed)
    app.view(b.CONCERN_RECORD_ACTION)(forms.submit_concern_action)
    app.view(b.ACTION_UPDATE)(forms.submit_action_update)
    app.view(b.ACTION_COMPLETE)(forms.submit_action_complete)
    raising = RaiseConcernForm(h, forms)
    app.action(RAISE_CONCERN)(pressed.listener(raising.open))
    app.view(RAISE_CONCERN)(raising.submit)
    app.event("app_home_opened")(home.opened)
    app.event("message")(Conversation(h).message)
    linking = Linking(h, home)
    app.action(b.LINK_ASK)(pressed.listener(linking.open_ask))
    app.view(b.LINK_ASK)(linking.submit_ask)
    app.action(b.LINK_APPROVE)(pressed.listener(linking.decide))
    app.action(b.LINK_REFUSE)(pressed.listener(linking.decide))
    return app
