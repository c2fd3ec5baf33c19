"""The channels a service's settings make available."""

from collections.abc import Mapping

import httpx

from services.shared.delivery.channels import Channel, ChannelSettings, Sends
from services.shared.delivery.email import Mailer
from services.shared.delivery.webhook import SmsGateway, Webhook


def build_channels(settings: ChannelSettings, client: httpx.AsyncClient) -> Mapping[Channel, Sends]:
    """The channels the settings make available (SMS only with a gateway)."""
    key = settings.webhook_signing_key.get_secret_value().encode()
    webhook = Webhook(client, key, public_only=not settings.webhook_private_hosts)
    channels: dict[Channel, Sends] = {Channel.email: Mailer(settings), Channel.webhook: webhook}
    if settings.sms_gateway_url:
        token = settings.sms_gateway_token.get_secret_value() if settings.sms_gateway_token else None
        channels[Channel.sms] = SmsGateway(client, key, settings.sms_gateway_url, token)
    return channels
