/*
 * bcrypt hashes for the secured dev node's internal_users.yml, made by the security plugin's own Hasher
 * (what its tools/hash.sh runs), several in one JVM: one start instead of one per user.
 *
 *   TRIBUTARY_PASSWORD_0=... TRIBUTARY_PASSWORD_1=... java -cp <node classpath with the plugin> HashPasswords N
 *
 * Prints N lines, the hash of TRIBUTARY_PASSWORD_0 .. _<N-1> in order. The passwords come through the
 * environment, not argv, so no process listing shows them.
 */

import org.opensearch.security.tools.Hasher;

public final class HashPasswords {
  private HashPasswords() {}

  public static void main(String[] args) {
    int count = Integer.parseInt(args[0]);
    for (int i = 0; i < count; i++) {
      String password = System.getenv("TRIBUTARY_PASSWORD_" + i);
      if (password == null) throw new IllegalArgumentException("TRIBUTARY_PASSWORD_" + i + " is not set");
      System.out.println(Hasher.hash(password.toCharArray()));
    }
  }
}
