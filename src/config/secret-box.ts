import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Seals the AppSecret before it goes into a shared store, with a key the store does not
 * hold (CONFIG_ENCRYPTION_KEY, from a Kubernetes Secret): AES-256-GCM, a random 96-bit
 * nonce per seal, and the purpose bound as associated data so a sealed value cannot be
 * replayed into another field. Format: `v1.<nonce>.<tag>.<ciphertext>`, base64url parts.
 */
export interface SecretBox {
  seal(plaintext: string): string;
  /** Throws when the value was sealed with another key or was tampered with. */
  open(sealed: string): string;
}

const AAD = Buffer.from('dingtalk-gateway:app_secret');

/**
 * The key is any string of at least 32 characters (for example `openssl rand -base64 32`);
 * it is hashed to 256 bits, so its encoding does not matter.
 */
export function createSecretBox(key: string, random: (n: number) => Buffer = randomBytes): SecretBox {
  const k = createHash('sha256').update(key, 'utf8').digest();
  return {
    seal(plaintext) {
      const nonce = random(12);
      const cipher = createCipheriv('aes-256-gcm', k, nonce);
      cipher.setAAD(AAD);
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return ['v1', nonce, cipher.getAuthTag(), body]
        .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
        .join('.');
    },
    open(sealed) {
      const [v, nonce, tag, body] = sealed.split('.');
      if (v !== 'v1' || !nonce || !tag || body === undefined)
        throw new Error('the stored AppSecret is not in a format this gateway reads');
      try {
        const decipher = createDecipheriv('aes-256-gcm', k, Buffer.from(nonce, 'base64url'));
        decipher.setAAD(AAD);
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString(
          'utf8',
        );
      } catch {
        throw new Error(
          'the stored AppSecret cannot be decrypted: CONFIG_ENCRYPTION_KEY differs from the key it was sealed with',
        );
      }
    },
  };
}

/**
 * Where no key is needed: a store only this process sees (memory). The value is kept as it
 * is, marked so a shared store can never be handed one by mistake.
 */
export const LOCAL_BOX: SecretBox = {
  seal: (plaintext) => `local.${Buffer.from(plaintext, 'utf8').toString('base64url')}`,
  open: (sealed) => {
    if (!sealed.startsWith('local.'))
      throw new Error('the stored AppSecret is sealed; set CONFIG_ENCRYPTION_KEY');
    return Buffer.from(sealed.slice('local.'.length), 'base64url').toString('utf8');
  },
};
