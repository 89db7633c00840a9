"""Amministrazione › Personale in chromium, at phone width: an administrator invites a technical user, who signs in
in a second browser with the emailed temporary password (moto's SES), chooses a new one and sees the inbox; the
administrator disables them and their next request sends them to the sign-in page with the reason. The comune is
the test's own (prefix 71), its administrator a user of the stack's Cognito pool (moto's), as make dev's are."""
from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect

from chalicelib.store import directory
from local.seed import REPORTS
from tests import mailbox

PHONE = {"width": 390, "height": 844}


def own_comune(stack) -> tuple[str, str, str]:
    """A comune with the demo's teams and its administrator in the Cognito pool: (tenant, username, password)."""
    n = uuid.uuid4().int % 10**9
    tenant, username, password = f"p71{n:09d}", f"sindaca.{n}@comune.example", f"Password-{n}"
    directory.save_tenant(tenant, f"Comune di Personale {n}", {
        "hamlets": [{"id": "centro", "name": "Centro", "latitude": 43.7, "longitude": 10.9}],
        "privacy_notice_url": "https://example.org/privacy", "privacy_notice_version": "v1", "reports": REPORTS})
    pool, cognito = stack.staff_pool_id, stack.cognito
    cognito.admin_create_user(UserPoolId=pool, Username=username, MessageAction="SUPPRESS", UserAttributes=[
        {"Name": "name", "Value": "Sara Sindaca"}, {"Name": "email", "Value": username},
        {"Name": "custom:tenant", "Value": tenant}])
    cognito.admin_set_user_password(UserPoolId=pool, Username=username, Password=password, Permanent=True)
    cognito.admin_add_user_to_group(UserPoolId=pool, Username=username, GroupName="admin")
    return tenant, username, password


def sign_in(page: Page, stack, username: str, password: str) -> None:
    page.goto(f"{stack.web_url}/console/")
    page.get_by_label("Utente").select_option(label="Altro utente (email)")
    page.get_by_label("Email").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Accedi").click()


def temporary_password(stack, email: str) -> str:
    return mailbox.temporary_password(email)


def test_invite_sign_in_and_disable_at_phone_width(stack, page, browser):
    tenant, admin_user, admin_password = own_comune(stack)
    page.set_viewport_size(PHONE)
    sign_in(page, stack, admin_user, admin_password)
    expect(page.get_by_label("Utente collegato")).to_contain_text("Sara Sindaca")
    page.goto(f"{stack.web_url}/console/#/amministrazione/personale")
    expect(page.get_by_role("heading", name="Personale", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Sara Sindaca (tu)")).to_be_visible()

    # the last administrator cannot disable themselves: the reason in Italian
    me = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name="Sara Sindaca (tu)"))
    me.get_by_role("button", name="Disattiva").click()
    expect(page.get_by_role("alert")).to_contain_text("ultimo amministratore attivo")

    email = f"tecla.{tenant}@comune.example"
    page.get_by_text("Invita una persona").click()
    form = page.get_by_role("form", name="Invita una persona")
    form.get_by_label("Nome e cognome").fill("Tecla Tecnica")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Ufficio tecnico").check()
    form.get_by_label("Squadra cantonieri").check()
    form.get_by_role("button", name="Invita").click()
    expect(page.get_by_role("status").filter(has_text="Invito inviato")).to_contain_text("Tecla Tecnica")
    card = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name="Tecla Tecnica"))
    expect(card).to_contain_text("Ufficio tecnico")
    expect(card).to_contain_text("Squadra cantonieri")
    expect(card).to_contain_text("mai")  # no sign-in yet
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # usable at 390 px

    card.get_by_role("button", name="Modifica").click()
    expect(card.get_by_label("Nome e cognome")).to_be_focused()  # the keyboard lands in the form
    card.get_by_label("Squadra verde").check()
    card.get_by_role("button", name="Salva").click()
    expect(card).to_contain_text("Squadra cantonieri, Squadra verde")

    # the new member, in a browser of their own: temporary password, then a new one, then the inbox
    other = browser.new_context(locale="it-IT", viewport=PHONE)
    other.set_default_timeout(10_000)
    theirs = other.new_page()
    try:
        sign_in(theirs, stack, email, temporary_password(stack, email))
        expect(theirs.get_by_role("heading", name="Scegli una nuova password")).to_be_visible()
        theirs.get_by_label("Nuova password", exact=True).fill("Tecla-nuova-1")
        theirs.get_by_label("Ripeti la nuova password").fill("Tecla-nuova-1")
        theirs.get_by_role("button", name="Salva e accedi").click()
        expect(theirs.get_by_label("Utente collegato")).to_contain_text("Tecla Tecnica")
        expect(theirs.get_by_role("heading", name="Segnalazioni dei cittadini")).to_be_visible()
        expect(theirs.get_by_role("link", name="Amministrazione")).to_have_count(0)

        card.get_by_role("button", name="Disattiva").click()
        expect(page.get_by_role("status").filter(has_text="disattivato")).to_contain_text("Tecla Tecnica")
        expect(card).to_contain_text("Disattivato")

        theirs.reload()  # their next request
        expect(theirs.get_by_text("Il tuo account è disabilitato")).to_be_visible()
        expect(theirs.get_by_role("button", name="Accedi")).to_be_visible()
    finally:
        other.close()
