/* fuzz_proxy.c - proxy decisions on arbitrary environments and hosts: the input
 * is "NAME=VALUE\n..." lines, then a host after a NUL. Never a crash; masking
 * never lets a password through. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/proxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *s = malloc(size + 2);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = s[size + 1] = '\0';
    const char *host = s + strlen(s) + 1; /* after the first NUL, or "" */
    char *envp[17];
    size_t n = 0;
    for (char *line = strtok(s, "\n"); line && n < 16; line = strtok(NULL, "\n"))
        envp[n++] = line;
    envp[n] = NULL;
    ld_proxy_env env;
    ld_proxy_env_read(&env, envp);
    static const char *const schemes[] = {"http", "https"};
    for (int i = 0; i < 2; i++) {
        ld_proxy_decision d = ld_proxy_for(&env, schemes[i], host);
        if (d.use && !d.proxy)
            abort();
        if (d.proxy) {
            char masked[256];
            ld_proxy_mask(d.proxy, masked, sizeof masked);
            const char *at = strrchr(d.proxy, '@');
            const char *colon = at ? memchr(d.proxy, ':', (size_t)(at - d.proxy)) : NULL;
            /* a "user:password@" part must not survive masking */
            if (at && colon && strstr(masked, "***@") == NULL)
                abort();
        }
    }
    free(s);
    return 0;
}
