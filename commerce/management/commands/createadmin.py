import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = ("Create the local admin login once and print its password then; later runs print only where "
            "the password is kept (the data folder), so it never lands in every start's log.")

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username, **options):
        password_file = settings.DATA_DIR / "admin-password.txt"
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            if password_file.exists():
                where = f"its password is in {password_file}"
            else:
                where = "its password was set before; change it with `manage.py changepassword`"
            self.stdout.write(f"Admin login: {username} ({where})")
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email=f"{username}@localhost", password=password)
        password_file.parent.mkdir(parents=True, exist_ok=True)
        # Created owner-only before the password is written, so it is never readable by others.
        password_file.touch(mode=0o600, exist_ok=True)
        password_file.chmod(0o600)
        password_file.write_text(password)
        self.stdout.write(f"Admin login created: {username} / {password} (kept in {password_file})")
