import factory
from django.contrib.auth.hashers import make_password

from academy.models import User

DEFAULT_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    """``password`` is the raw password (``None`` for an unusable one); it is hashed before the
    person is saved, so making a person is one INSERT."""

    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    full_name = factory.Faker("name", locale="en_GB")
    password = DEFAULT_PASSWORD

    @classmethod
    def _adjust_kwargs(cls, **kwargs):
        kwargs["password"] = make_password(kwargs["password"])
        return kwargs

    class Params:
        staff = factory.Trait(is_staff=True, is_superuser=True)
