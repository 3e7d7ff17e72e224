"""Social sign-in (loginWithGoogle, loginWithGoogleAndroid, loginWithGoogleIOS, loginWithFacebook,
loginWithAppleIOS): the provider's token verified with the provider (providers.py, signing keys in
jwks.py), then the sign-in or sign-up flow (services.py). docs/accounts.md, "Social sign-in"."""
