"""The signer that signs certificates: pyHanko's ``SimpleSigner``, with the parts of the CMS
signature that are the same for every certificate encoded once.

Those parts are the signer's identifier (issuer and serial number) and the signing-certificate-v2
attribute (RFC 5035, which PAdES requires). asn1crypto encodes the certificate's names anew,
field by field, each time pyHanko builds them: 8 of the 10 ms pyHanko took to sign one
certificate. Here they are encoded when the key is loaded and read back (lazily, so never
re-encoded) for each signature. The signature has the same structure, attribute for attribute;
``certificates/tests/test_signing.py`` compares the two.

Imported only where a PDF is signed, so that importing ``certificates.signing`` stays cheap.
"""

from __future__ import annotations

from asn1crypto import algos, cms, tsp
from pyhanko.sign import attributes, signers
from pyhanko.sign.general import as_signing_certificate_v2
from pyhanko.sign.signers.pdf_cms import SignedAttributeProviderSpec


class EncodedSigningCertificateV2(attributes.SigningCertificateV2Provider):
    """The signing-certificate-v2 attribute, from its DER encoding."""

    def __init__(self, der: bytes):
        self.der = der

    async def build_attr_value(self, dry_run=False):
        return tsp.SigningCertificateV2.load(self.der)


class PadesSignedAttributes(SignedAttributeProviderSpec):
    """The signed attributes pyHanko's PAdES specification adds for a signer without CAdES extras:
    the signing-certificate-v2 attribute only (PAdES keeps the signing time in the signature
    dictionary). pyHanko adds the content type and the message digest itself."""

    def __init__(self, signing_cert):
        self.der = as_signing_certificate_v2(signing_cert).dump()

    def signed_attr_providers(self, data_digest, digest_algorithm):
        yield EncodedSigningCertificateV2(self.der)


class AcademySigner(signers.SimpleSigner):
    """``SimpleSigner`` with the signer identifier and signing-certificate-v2 attribute encoded once."""

    @classmethod
    def from_simple_signer(cls, signer: signers.SimpleSigner) -> AcademySigner:
        return cls(
            signing_cert=signer.signing_cert,
            signing_key=signer.signing_key,
            cert_registry=signer.cert_registry,
            signature_mechanism=signer.signature_mechanism,
            prefer_pss=signer.prefer_pss,
            embed_roots=signer.embed_roots,
        )

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.signed_attr_prov_spec = PadesSignedAttributes(self.signing_cert)
        self._sid_der = cms.SignerIdentifier(
            {
                "issuer_and_serial_number": cms.IssuerAndSerialNumber(
                    {"issuer": self.signing_cert.issuer, "serial_number": self.signing_cert.serial_number}
                )
            }
        ).dump()

    def signer_info(self, digest_algorithm, signed_attrs, signature):
        if digest_algorithm == "shake256":  # pyHanko's own special case (Ed448 parameters)
            return super().signer_info(digest_algorithm, signed_attrs, signature)
        return cms.SignerInfo(
            {
                "version": "v1",
                "sid": cms.SignerIdentifier.load(self._sid_der),
                "digest_algorithm": algos.DigestAlgorithm({"algorithm": digest_algorithm}),
                "signature_algorithm": self.get_signature_mechanism_for_digest(digest_algorithm),
                "signed_attrs": signed_attrs,
                "signature": signature,
            }
        )
